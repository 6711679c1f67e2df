"""The documentation's links resolve, and README keeps its promises to a new user.

README.md and docs/*.md link to each other by relative paths and #anchors; an anchor
must match a heading of the target file as GitHub turns headings into anchors
(lower case, punctuation dropped except ``-`` and ``_``, spaces to ``-``, a repeated
heading gets ``-1``, ``-2``...).  README's "On a fresh machine" table names exactly
``make sim`` and ``make test``, and .ci/run runs README's test command.
"""

import re
from pathlib import Path

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "soc" / "README.md"]

LINK = re.compile(r"(?<!!)\[(?:[^\]`]|`[^`]*`)*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


COVERAGE = load_script("tools/docs_coverage.py")


def prose_lines(text):
    """The lines of a Markdown text outside fenced and indented code blocks (the
    latter found as tools/docs_coverage.py finds them, fence lines left out)."""
    kept, fenced, inside = [], [], False
    for line in text.split("\n"):
        if FENCE.match(line):
            inside = not inside
            continue
        kept.append(line)
        fenced.append(inside)
    marked = COVERAGE.mark_indented_code(kept)
    for (line, indented), in_fence in zip(marked, fenced):
        if not in_fence and not indented:
            yield line


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # a link's text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)                      # drops ` * ' : . ( ) ...
    return text.replace(" ", "-")


def anchors(path):
    seen, out = {}, set()
    for line in prose_lines(path.read_text()):
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path):
    text = "\n".join(prose_lines(path.read_text()))
    text = re.sub(r"`[^`\n]*`", "``", text)          # link syntax inside code is not a link
    for m in LINK.finditer(text):
        yield m.group(1)


def test_slug_follows_github():
    assert slug("RAM: `make qemu RAM_MB=128`") == "ram-make-qemu-ram_mb128"
    assert slug("Simulation: `make sim`") == "simulation-make-sim"
    assert slug("The board's configuration in simulation") == "the-boards-configuration-in-simulation"
    assert slug("Hardware: `hw/` and `soc/`") == "hardware-hw-and-soc"
    assert slug("The golden model and lock-step comparison (difftest)") == \
        "the-golden-model-and-lock-step-comparison-difftest"


def test_the_checker_catches_a_broken_link(tmp_path):
    (tmp_path / "a.md").write_text("# Top\n\n## Two words\n\n[x](b.md) [y](#two-words) [z](#none)\n")
    found = list(links(tmp_path / "a.md"))
    assert found == ["b.md", "#two-words", "#none"]
    assert broken(tmp_path / "a.md") == ["b.md: no such file", "#none: no such heading in a.md"]


def broken(path):
    out = []
    for target in links(path):
        if re.match(r"[a-z]+:", target):            # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            out.append(f"{target}: no such file")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            out.append(f"{target}: no such heading in {dest.name}")
    return out


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(path):
    assert broken(path) == []


def readme_section(title):
    text = (ROOT / "README.md").read_text()
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"README.md has no section '{title}'"
    return m.group(1)


def fresh_machine_commands():
    """The command of each row of README's "On a fresh machine" table (its last
    `code` span), the header and the separator left out."""
    rows = [line for line in readme_section("On a fresh machine").split("\n")
            if line.startswith("|") and not re.match(r"\|\s*-", line)]
    return [re.findall(r"`([^`]+)`", row)[-1] for row in rows[1:]]


def test_fresh_machine_names_make_sim_and_make_test():
    assert fresh_machine_commands() == ["make sim", "make test"]


def test_ci_runs_readmes_test_command():
    command = fresh_machine_commands()[1]             # set up and run the tests
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().split("\n")
          if line.strip() and not line.lstrip().startswith("#")]
    assert command in ci


def test_docs_coverage_finds_moved_edited_and_dropped_text(tmp_path, capsys):
    old = tmp_path / "old.md"
    old.write_text("# Title\n\nThe first sentence stays.  The second one, with a long clause,\n"
                   "a second clause, and a third clause, moves.  The third is dropped here.\n\n"
                   "| a | b |\n| --- | --- |\n| cell one | see [x](#x) |\n")
    new = tmp_path / "new.md"
    new.write_text("# Title\n\nThe first\nsentence stays.\n\n| cell one | see [y](other.md#y) |\n\n"
                   "The second one, with a long clause, a second clause, and a third clause, moved.\n")
    assert COVERAGE.main(["docs_coverage.py", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "EDITED: The second one" in out
    assert "MISSING: The third is dropped here." in out
    assert out.strip().endswith("6 units: 4 found as they were, 1 edited (3/4 of their clauses found), "
                                "1 missing")
