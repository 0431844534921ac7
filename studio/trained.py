"""The server's trained fast styles: listed from MODELS_DIR, loaded by their listed name and by nothing else."""

from __future__ import annotations

import html
import os
from pathlib import Path

import gradio as gr

from stylize import fast

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(os.environ.get("STYLIZE_MODELS", ROOT / "models"))  # trained fast styles


def trained_choices() -> list[str]:
    return list(fast.list_trained(MODELS_DIR))


def trained_network(name: str):
    """A trained network from MODELS_DIR by its listed name (a typed-in name can't reach files elsewhere)."""
    path = fast.list_trained(MODELS_DIR).get(name)
    if path is None:
        raise gr.Error(
            f"No trained style named {html.escape(repr(name))} on this server: press Refresh and pick one "
            "from the list."
        )
    return fast.load_transformer(path)


def trained_note() -> str:
    names = trained_choices()
    if names:
        return f"{len(names)} trained style(s) on this server."
    return (
        "No trained styles on this server yet. Train one with `python -m stylize.cli.train --style PAINTING "
        "--images PHOTOS_DIR -o MODELS/NAME.keras` (MODELS: the folder in `$STYLIZE_MODELS`), then press Refresh."
    )
