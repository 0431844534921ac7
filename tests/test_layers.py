"""The engine's layers depend one way and no modules import each other in a circle (pyproject's import-linter
contracts, TYPE_CHECKING imports counted)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    """lint-imports on the stylize package in folder, with the pyproject.toml there."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=folder,
        env={"PYTHONPATH": str(folder)},  # that folder's package, not the installed one
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_engine_keeps_its_layers_and_has_no_import_circles():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 kept, 0 broken" in done.stdout


def test_an_import_from_a_lower_layer_to_a_higher_one_is_caught(tmp_path):
    shutil.copytree(ROOT / "stylize", tmp_path / "stylize", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "stylize" / "core" / "files.py", "a") as files:
        files.write("\nfrom ..gatys import loop  # noqa\n")  # the core reaching up into the Gatys loop
    done = lint_imports(tmp_path)
    assert done.returncode != 0 and "stylize.core.files -> stylize.gatys.loop" in done.stdout
