"""Command line: a folder stylised item by item, `stylize-batch FOLDER PAINTING -o OUT_FOLDER` or `--builtin N`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from ..batch import ENGINES, BatchSettings, RayUnavailable, Style, default_engine, plan_batch, run_batch
from ..batch.items import PHOTO_SUFFIXES, VIDEO_SUFFIXES
from ..core import images
from ..core.errors import NetworkUnavailable, one_line
from ..fast.instant import BUNDLED, MODEL_ENV, STYLE_SIZE
from . import parsed

DEFAULTS = BatchSettings()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="stylize-batch",
        description="Stylise every photo and video in a folder, each result under its own name in OUT_FOLDER "
        f"(photo.jpg -> photo.png, clip.mov -> clip.mp4). Photos: {', '.join(PHOTO_SUFFIXES)}; videos: "
        f"{', '.join(VIDEO_SUFFIXES)}, cut into segments that run as separate items and are joined with the "
        "original audio. Runs in this process, or on Ray (a local instance, or the cluster $RAY_ADDRESS names).",
        epilog="Exit status: 0 when every input has its result, 1 when some were skipped or failed (each said "
        "in one line), 2 when nothing could start.",
    )
    parser.add_argument("folder", help="the folder of photos and videos (its own files; subfolders are not read)")
    parser.add_argument("style", nargs="?", help="the style picture (or use --builtin)")
    parser.add_argument("-o", "--output", required=True, help="the folder for the results (made if missing)")
    parser.add_argument("--builtin", metavar="N", help="a built-in style 0-25 or a blend 3:0.6,12:0.4 instead")
    parser.add_argument(
        "--instant-model",
        metavar="DIR",
        default=None,
        help=f"as stylize-instant's (a folder must exist on every Ray node), or {BUNDLED!r}; default ${MODEL_ENV}",
    )
    parser.add_argument("--strength", type=float, default=DEFAULTS.strength, help="the style amount, 0 to 1")
    parser.add_argument("--style-size", type=int, default=STYLE_SIZE, help="side the style picture is scaled to")
    parser.add_argument("--size", type=int, default=None, help="longer side of each result (default: the input's)")
    parser.add_argument(
        "--segment-seconds", type=float, default=DEFAULTS.segment_seconds, help="length of a video's segments"
    )
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=DEFAULTS.warmup_seconds,
        help="frames before each segment, stylised only so that its flicker removal starts warm",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="redo results already in OUT_FOLDER (default: keep them, skip)"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="where the items run (default: ray when $RAY_ADDRESS is set, else local: this process)",
    )
    parser.add_argument("--workers", type=int, default=None, help="Ray actors (default: the cluster's CPUs / --cpus)")
    parser.add_argument("--cpus", type=int, default=1, help="CPUs (and threads) of each Ray actor")
    arguments = parsed(parser, argv)
    if (arguments.style is None) == (arguments.builtin is None):
        parser.error("give a style picture or --builtin N, one of the two")
    for name in ("workers", "cpus"):
        if getattr(arguments, name) is not None and getattr(arguments, name) < 1:
            parser.error(f"--{name} is {getattr(arguments, name)} but must be at least 1")
    return arguments


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engine = args.engine or default_engine()
    try:
        settings = BatchSettings(
            size=args.size,
            strength=args.strength,
            style_size=args.style_size,
            segment_seconds=args.segment_seconds,
            warmup_seconds=args.warmup_seconds,
            overwrite=args.overwrite,
        )
        if args.style is not None:
            images.read_header(args.style, "style image")  # its size and kind, before reading it whole
        painting = b"" if args.style is None else Path(args.style).read_bytes()
        model = args.instant_model or os.environ.get(MODEL_ENV) or None  # resolved here: a worker may lack the env
        style = Style(painting, Path(args.style or "").name, args.builtin, model)
        plan = plan_batch(args.folder, args.output, settings)
        failures = [f"{name}: {why}" for name, why in plan.skipped]
        for line in failures:
            print(f"skipped {line}", file=sys.stderr)
        started = time.perf_counter()
        written = 0
        with tqdm(total=len(plan.items), unit="item", desc=f"stylize-batch ({engine})") as bar:
            for record in run_batch(plan, style, settings, engine=engine, workers=args.workers, cpus=args.cpus):
                bar.update()
                written += record.written is not None
                if record.error:
                    failures.append(f"{record.result.name}: {record.error}")
                    tqdm.write(f"skipped {failures[-1]}", file=sys.stderr)
    except (OSError, ValueError, NetworkUnavailable, RayUnavailable) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    kept = f", {len(plan.kept)} kept from before (--overwrite redoes them)" if plan.kept else ""
    print(
        f"done: {written} written to {args.output}, {len(failures)} skipped{kept}, in "
        f"{time.perf_counter() - started:.1f} s ({engine})",
        file=sys.stderr,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
