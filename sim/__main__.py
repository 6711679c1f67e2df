import os
import sys

from .run import main

try:
    if sys.argv[1:2] == ["wave"]:
        from .wave.cli import main as wave_main
        status = wave_main(sys.argv[2:])
    else:
        status = main()
    sys.stdout.flush()
except BrokenPipeError:
    # The reader of our output went away (e.g. `| head`): not an error.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    status = 0
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    status = 130
sys.exit(status)
