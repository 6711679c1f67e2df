"""Check that a rewrite of the documentation lost nothing: every sentence and table cell
of an old Markdown file must appear in the new files (whitespace and emphasis
ignored, and any link matching any other: links are rewritten when text moves).

    python tools/docs_coverage.py OLD.md NEW.md [NEW.md ...]
    python tools/docs_coverage.py <(git show REV:README.md) README.md docs/*.md

Prints each unit of OLD that is not found, then how many were found.  A unit is a
sentence of a table cell or of prose (this project ends sentences with two spaces, so
text is split there and at line-block boundaries).  A missing unit is also split at
``;``, ``,`` and ``:``: a unit of which three quarters of the clauses are found is
listed as edited (with the clauses not found), any other as missing.  Exit status 1 if
any unit is missing.
"""

import re
import sys
from pathlib import Path


def normalize(text):
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", "[link]", text)  # any link matches any link
    text = text.replace("**", "").replace("<!-- CUT -->", "")
    text = re.sub(r"^#+\s*", "", text, flags=re.M)
    text = re.sub(r"^\s*[-*]\s+", "", text, flags=re.M)       # list bullets
    return re.sub(r"\s+", " ", text).strip()


def mark_indented_code(lines):
    """Each line with whether it is in an indented code block: one starts at a line
    indented by four spaces after a blank line and goes on through indented and blank
    lines.  (A list item's continuation lines are indented too, but follow text.)"""
    prev_blank, in_code = True, False
    for line in lines:
        code = line.startswith("    ") and (prev_blank or in_code)
        if line.strip():
            in_code = code
        prev_blank = not line.strip()
        yield line, code


def blocks(text):
    """Paragraphs, list items and table rows of a Markdown text, each as one string."""
    out, cur = [], []
    for line, code in mark_indented_code(text.split("\n")):
        starts = (not line.strip() or line.lstrip().startswith(("- ", "| ", "#"))
                  or re.match(r"\s*\d+\. ", line) or code)
        if starts and cur:
            out.append(" ".join(cur)); cur = []
        if line.strip():
            cur.append(line.strip())
        if line.lstrip().startswith(("| ", "#")) or code:
            out.append(" ".join(cur)); cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def units(text):
    for block in blocks(text):
        if block.lstrip().startswith("|"):
            cells = re.split(r"(?<!\\)\s\|\s|^\s*\|\s|\s\|\s*$", block)
            for cell in cells:
                cell = cell.strip()
                if cell and not re.fullmatch(r"[-: |]+", cell):
                    yield from sentences(cell)
        else:
            yield from sentences(block)


def sentences(text):
    for sentence in re.split(r"(?<=\S)\s{2,}(?=\S)", text.strip()):
        if sentence.strip():
            yield sentence


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    old = Path(argv[1]).read_text()
    new = normalize(" \n".join(Path(p).read_text() for p in argv[2:]))
    total, edited, missing = 0, [], []
    for unit in units(old):
        norm = normalize(unit)
        if len(norm) < 3:
            continue
        total += 1
        if norm in new:
            continue
        clauses = [c.strip() for c in re.split(r"[;,:]", norm) if len(c.strip()) > 8]
        lost = [c for c in clauses if c not in new]
        if clauses and len(lost) <= len(clauses) // 4:
            edited.append((unit, lost))
        else:
            missing.append((unit, lost))
    for unit, lost in edited:
        print(f"EDITED: {unit.strip()[:120]}\n    not found: {lost}")
    for unit, lost in missing:
        print(f"MISSING: {unit.strip()[:400]}")
    print(f"{total} units: {total - len(edited) - len(missing)} found as they were, "
          f"{len(edited)} edited (3/4 of their clauses found), {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
