"""Command line: one picture through the instant network, `python -m stylize.instant CONTENT STYLE -o OUT.png`."""

from __future__ import annotations

import argparse
import sys

from .fast.instant import MODEL_ENV, STYLE_SIZE, InstantUnavailable, instant_stylize, load_instant
from .images import save_png


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stylize.instant",
                                     description="Stylise a picture in one pass of Magenta's arbitrary-style network.")
    parser.add_argument("content", help="the photo")
    parser.add_argument("style", help="the style picture")
    parser.add_argument("-o", "--output", required=True, help="the result, a PNG file")
    parser.add_argument("--instant-model", metavar="DIR", default=None,
                        help=f"a local copy of the network (SavedModel folder); default ${MODEL_ENV}, else download")
    parser.add_argument("--strength", type=float, default=1.0, help="0: the photo, 1: fully stylised (pixel blend)")
    parser.add_argument("--style-size", type=int, default=STYLE_SIZE, help="side the style picture is scaled to")
    parser.add_argument("--size", type=int, default=None, help="longer side of the output (default: the photo's)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model = load_instant(args.instant_model)
        picture = instant_stylize(args.content, args.style, strength=args.strength, style_size=args.style_size,
                                  size=args.size, model=model)
    except (ValueError, InstantUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    save_png(args.output, picture, {"instant-model": model.source})
    print(f"saved {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
