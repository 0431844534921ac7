"""The command lines: transfer (`python -m stylize`), instant and train (`python -m stylize.cli.NAME`)."""

from __future__ import annotations

import argparse

from ..core import quiet

VERBOSE_HELP = "show TensorFlow's start-up lines (oneDNN, CUDA), which are held back otherwise"


def parsed(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """parser's arguments with every command's --verbose added, and applied: the held-back lines shown or not."""
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    arguments = parser.parse_args(argv)
    quiet.set_verbose(arguments.verbose)
    return arguments
