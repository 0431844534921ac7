"""Every file a request names, resolved and confined to Gradio's upload folder or the app's own assets."""

from __future__ import annotations

import os
from pathlib import Path

from gradio.utils import get_upload_folder

ASSETS = Path(__file__).resolve().parent.parent / "assets"  # the examples a page may send back by path


def allowed_roots() -> tuple[Path, ...]:
    # Read per call: GRADIO_TEMP_DIR may be set after import (tests, the soak bench).
    return Path(get_upload_folder()).resolve(), ASSETS.resolve()


def refusal(what: str) -> str:
    """One line for a path outside the roots, missing or not: it must not tell which paths exist."""
    return f"{what}: this file is not an upload of this page (or it has expired): upload the picture again"


def confined(path: str | os.PathLike, what: str) -> str:
    """path with its symlinks and '..' resolved, if it is a file inside an allowed root; ValueError otherwise."""
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        raise ValueError(refusal(what)) from None
    if not any(resolved.is_relative_to(root) for root in allowed_roots()) or not resolved.is_file():
        raise ValueError(refusal(what))
    return str(resolved)
