"""TensorFlow's native start-up lines: held back unless the command line's --verbose asks, whatever else is run."""

import subprocess
import sys
from pathlib import Path

import pytest

from stylize.core.errors import one_line

ROOT = Path(__file__).parent.parent
# A native line written while held back, as TensorFlow's C++ start-up writes them; then --verbose, or not.
PROGRAM = """
import os, sys
sys.argv.append("--verbose")  # what `pytest --verbose` leaves in sys.argv: no switch for the package
from stylize.core import quiet
with quiet.native_stderr_silenced():
    os.write(2, b"native start-up line\\n")
print("after", flush=True)
if sys.argv[1] == "cli-verbose":
    quiet.set_verbose()  # what the command line's --verbose calls once it has parsed its arguments
"""


@pytest.mark.parametrize("mode, shown", [("no-flag", False), ("cli-verbose", True)])
def test_only_the_command_lines_verbose_shows_the_held_lines(mode, shown):
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "after"
    assert ("native start-up line" in done.stderr) == shown, done.stderr


def test_an_error_becomes_its_first_line():
    assert one_line(ValueError("  first   part\nsecond line\n")) == "first part"
    assert one_line(RuntimeError("")) == "RuntimeError"
