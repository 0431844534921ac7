"""Command line: a clip stylised without flicker, `stylize-video CLIP PAINTING -o OUT.mp4` (or --builtin N, --model)."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from ..core.errors import one_line
from ..fast.bundled import BundledUnavailable
from ..fast.instant import BUNDLED, MODEL_ENV, STYLE_SIZE, InstantUnavailable, load_instant
from ..fast.transformer import load_transformer
from ..video import (
    DEFAULT_CONSISTENCY,
    StylizerFactory,
    VideoUnavailable,
    builtin_frames,
    instant_frames,
    stylize_clip,
    trained_frames,
)
from . import parsed
from .instant import builtin_list


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="stylize-video",
        epilog=builtin_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Stylise a video clip frame by frame, with the previous frame warped along the optical flow and "
        "blended in where it holds (no flicker); writes an H.264 mp4 that browsers play, with the clip's audio.",
    )
    parser.add_argument("clip", help="the video (mp4, mov, webm, mkv, avi, ts, ogg)")
    parser.add_argument("style", nargs="?", help="the style picture, for the instant network (or --builtin, --model)")
    parser.add_argument("-o", "--output", required=True, help="the result, an mp4 file")
    styles = parser.add_mutually_exclusive_group()
    styles.add_argument("--builtin", metavar="N", help="a built-in style 0-25, or a blend: 3:0.6,12:0.4")
    styles.add_argument("--model", metavar="FILE", help="a trained network (.keras, from stylize-train)")
    parser.add_argument(
        "--instant-model",
        metavar="DIR",
        default=None,
        help=f"TensorFlow's instant network's folder, or {BUNDLED!r}; default ${MODEL_ENV}, else download, "
        "else the bundled one",
    )
    parser.add_argument("--size", type=int, default=512, help="longer side of the output (never above the clip's)")
    parser.add_argument(
        "--consistency",
        type=float,
        default=DEFAULT_CONSISTENCY,
        help="0-1: how much of the previous frame, warped along the flow, is kept where the flow holds; "
        "0 stylises every frame on its own (flickers)",
    )
    parser.add_argument("--strength", type=float, default=1.0, help="the style amount, 0: the clip's own, 1: full")
    parser.add_argument("--style-size", type=int, default=STYLE_SIZE, help="side the style picture is scaled to")
    arguments = parsed(parser, argv)
    if sum(option is not None for option in (arguments.style, arguments.builtin, arguments.model)) != 1:
        parser.error("give a style picture, --builtin N or --model FILE, one of the three")
    return arguments


def stylizer(args: argparse.Namespace) -> tuple[StylizerFactory, str]:
    """The per-shot stylizer the arguments ask for, its network loaded, and what it is (for the last line)."""
    if args.builtin is not None:
        return builtin_frames(args.builtin, args.strength), f"built-in style {args.builtin}"
    if args.model is not None:
        return trained_frames(load_transformer(args.model), strength=args.strength), f"trained network {args.model}"
    model = load_instant(args.instant_model)
    return instant_frames(args.style, args.strength, args.style_size, model), model.label


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    progress = None
    try:
        frames, ran = stylizer(args)
        run = stylize_clip(args.clip, args.output, frames, size=args.size, consistency=args.consistency)
        with tqdm(unit="frame", dynamic_ncols=True, file=sys.stderr, delay=0.5) as bar:
            try:
                for progress in run:
                    bar.total = progress.total
                    bar.update(progress.frame - bar.n)
            except KeyboardInterrupt:
                run.close()  # the frames done become a playable file
                done = progress.frame if progress else 0
                print(f"\nstopped: {args.output} has the {done} frames done" if done else "\nstopped", file=sys.stderr)
                return 130
    except (ValueError, InstantUnavailable, BundledUnavailable, VideoUnavailable) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    assert progress is not None and progress.path is not None
    print(f"saved {progress.path} ({progress.frame} frames, {progress.fps:.1f} frames/s, {ran})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
