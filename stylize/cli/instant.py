"""Command line: one picture in one pass, `python -m stylize.cli.instant PHOTO PAINTING -o OUT.png` or `--builtin N`."""

from __future__ import annotations

import argparse
import sys

from ..core.errors import one_line
from ..core.images import save_png
from ..fast.bundled import BUILTIN_LOOKS, BundledNetworks, BundledUnavailable, builtin_stylize, load_bundled
from ..fast.instant import (
    BUNDLED,
    MODEL_ENV,
    STYLE_SIZE,
    InstantModel,
    InstantUnavailable,
    instant_stylize,
    load_instant,
)
from . import parsed


def builtin_list() -> str:
    lines = [f"  {number:2d}  {looks}" for number, looks in enumerate(BUILTIN_LOOKS)]
    return (
        "built-in styles (--builtin; unnamed in their source, so numbered and described by what they do to a "
        "photo):\n" + "\n".join(lines)
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stylize.cli.instant",
        epilog=builtin_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Stylise a picture in one pass: with any painting through Magenta's "
        "arbitrary-style network (TensorFlow's when it can be had, else the "
        "bundled one), or with a built-in style.",
    )
    parser.add_argument("content", help="the photo")
    parser.add_argument("style", nargs="?", help="the style picture (or use --builtin)")
    parser.add_argument("-o", "--output", required=True, help="the result, a PNG file")
    parser.add_argument(
        "--builtin",
        metavar="N",
        help="a built-in style 0-25 instead of a painting, or a blend of several with weights: 3:0.6,12:0.4",
    )
    parser.add_argument(
        "--instant-model",
        metavar="DIR",
        default=None,
        help=f"a local copy of TensorFlow's network (SavedModel folder), or {BUNDLED!r}; default "
        f"${MODEL_ENV}, else download, else the bundled networks",
    )
    parser.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="the style amount, 0: the photo's own style, 1: the painting's (TensorFlow's network "
        "and built-in styles: a pixel blend)",
    )
    parser.add_argument("--style-size", type=int, default=STYLE_SIZE, help="side the style picture is scaled to")
    parser.add_argument("--size", type=int, default=None, help="longer side of the output (default: the photo's)")
    arguments = parsed(parser, argv)
    if (arguments.style is None) == (arguments.builtin is None):
        parser.error("give a style picture or --builtin N, one of the two")
    return arguments


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    model: InstantModel | BundledNetworks  # the built-in styles' networks, or whichever instant network loads
    try:
        if args.builtin is not None:
            model = load_bundled()
            picture = builtin_stylize(
                args.content, args.builtin, strength=args.strength, size=args.size, networks=model
            )
        else:
            model = load_instant(args.instant_model)
            picture = instant_stylize(
                args.content,
                args.style,
                strength=args.strength,
                style_size=args.style_size,
                size=args.size,
                model=model,
            )
    except (ValueError, InstantUnavailable, BundledUnavailable) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    if args.builtin is not None:
        text, ran = {"builtin": args.builtin, "network": model.source}, f"built-in style {args.builtin}, {model.source}"
    else:
        text, ran = {"instant-model": model.source}, model.label
    save_png(args.output, picture, text)
    print(f"saved {args.output} ({ran})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
