"""stylize-batch in this process against a local Ray instance: the same files, and the time each takes.

    python bench/batch.py [--photos 200] [--side 512] [--workers N] [--builtin N] [--keep DIR]

Generates --photos smooth random photos (--side px, 4:3) and a painting in a temporary folder, runs the batch with
the bundled instant network (or a built-in style) in-process, then on a local Ray instance (ray.init here, its
start timed apart; --workers actors of one CPU each, default one per core), compares every output byte for byte
and prints a Markdown table. Needs ray[data] (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from stylize.batch import BatchSettings, Style, plan_batch, run_batch


def photo(side: int, seed: int) -> Image.Image:
    """A smooth picture with structure (gradients and stripes), different for every seed."""
    rng = np.random.default_rng(seed)
    height = side * 3 // 4
    y, x = np.mgrid[0:height, 0:side].astype(np.float32)
    channels = [0.5 + 0.4 * np.sin(a * x + b * y + c) for a, b, c in rng.uniform(0.005, 0.08, (3, 3))]
    return Image.fromarray((np.stack(channels, axis=-1) * 255).astype(np.uint8))


def timed_run(folder: Path, out: Path, style: Style, engine: str, workers: int | None) -> tuple[float, int, int]:
    """Seconds, results written and items failed for one engine's batch."""
    settings = BatchSettings()
    plan = plan_batch(folder, out, settings)
    started = time.perf_counter()
    records = list(run_batch(plan, style, settings, engine=engine, workers=workers))
    seconds = time.perf_counter() - started
    return seconds, sum(record.written is not None for record in records), sum(bool(r.error) for r in records)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--side", type=int, default=512, help="each photo's longer side")
    parser.add_argument("--workers", type=int, default=None, help="Ray actors (default: one per core)")
    parser.add_argument("--builtin", default=None, help="a built-in style instead of the painting")
    parser.add_argument("--keep", default=None, help="make the photos and results in this folder and keep them")
    args = parser.parse_args()

    import ray  # the Ray engine's optional extra: this bench needs it

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as temporary:
        root = Path(args.keep or temporary)
        photos = root / "photos"
        photos.mkdir(parents=True, exist_ok=True)
        for index in range(args.photos):
            photo(args.side, index).save(photos / f"photo{index:04d}.jpg", quality=92)
        painting = root / "painting.png"
        photo(256, 10_000).save(painting)
        style = Style(painting.read_bytes(), painting.name, args.builtin, instant_model="bundled")

        local = timed_run(photos, root / "local", style, "local", None)
        started = time.perf_counter()
        ray.init(include_dashboard=False, log_to_driver=False)
        start_seconds = time.perf_counter() - started
        try:
            on_ray = timed_run(photos, root / "ray", style, "ray", args.workers)
            workers = args.workers or int(ray.cluster_resources()["CPU"])
        finally:
            ray.shutdown()
        names = sorted(path.name for path in (root / "local").iterdir())
        same = sum((root / "ray" / name).read_bytes() == (root / "local" / name).read_bytes() for name in names)
        print(
            f"\n{args.photos} photos of {args.side}x{args.side * 3 // 4} px, "
            f"{'built-in style ' + args.builtin if args.builtin else 'the bundled instant network and a painting'}; "
            f"{cpu_name()}, {os.cpu_count()} cores\n"
        )
        print("| engine | seconds | photos/s | written | failed |")
        print("|---|---|---|---|---|")
        for label, (seconds, written, failures) in (
            ("in-process (all cores, one photo at a time)", local),
            (f"local Ray, {workers} actors of 1 CPU (start of the instance not counted)", on_ray),
        ):
            print(f"| {label} | {seconds:.1f} | {args.photos / seconds:.2f} | {written} | {failures} |")
        print(f"\nlocal Ray instance's start: {start_seconds:.1f} s; identical files: {same} of {len(names)}")


if __name__ == "__main__":
    main()
