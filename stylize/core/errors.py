"""One-line error messages: what a person reads in the page, on the command line, or inside another message."""

from __future__ import annotations


def one_line(error: BaseException) -> str:
    """An error's first line, its whitespace collapsed; its type's name when it has no text (TensorFlow's and
    Pillow's messages can run to dozens of lines)."""
    lines = str(error).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(error).__name__


class NetworkUnavailable(RuntimeError):
    """A network's weights cannot be had (a feature network, an instant or bundled one); the message says how to
    get them."""
