"""Speed benchmark: each preset's time budget kept, its picture judged, and how soon it matches the seed loop.

    python bench/speed.py [--content PHOTO --style PAINTING] [--size 512] [--precision auto|float32]
                          [--presets quick,balanced,best] [--every 5] [--network auto] [--save DIR] [--sheet FILE]
                          [--seed-known MATCH,SECONDS]

First the seed loop (the reference program: Adam, 200 full-size steps, float32), then each preset, on one photo
and painting at --size, the network loaded and its step compiled (warm_up, as the app and the command line do
before a run) and, untimed, two steps at the size in each precision (a served app's later visitors find the
size's kernels made; the first visitor's first run is a few seconds slower to start). Prints, per method:

- total: seconds from the call to the last picture, and the steps it took at each scale;
- the judged picture at the end (bench/quality.py): style match (Magenta's style embedding) and content keep
  (Sobel correlation), plus Gram match on the other network (a judge the run does not optimize);
- the time until the picture first reaches the seed loop's final style match, and its share of the seed loop's time;
- the worst error of the time left shown from the 5th step on, as a share of the true time left;
- style match every --every seconds: the quality-against-time curve.

--precision float32 runs the presets in float32 (the seed loop is float32 anyway): what a CPU without bfloat16
runs; with ONEDNN_MAX_CPU_ISA=AVX2 in the environment this machine also computes like a CPU without AVX-512.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from stylize import load_network, preset, stylize
from stylize.core import images
from stylize.core.precision import resolve_precision
from stylize.gatys.loop import warm_up

import quality  # beside this script

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "images"
ASSETS = Path(__file__).resolve().parent.parent / "assets"
EARLY_STEPS = 25  # every record this early is judged, to time the seed loop's style match finely


def cpu_name() -> str:
    """The CPU's model and whether it computes bfloat16 natively, for labelling every figure."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            lines = cpuinfo.read().splitlines()
        model = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in lines if line.startswith("flags"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    bf16 = " with bfloat16" if "avx512_bf16" in flags or "amx_bf16" in flags else ""
    mimic = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return f"{model}, {os.cpu_count()} cores, {isa}{bf16}" + (f", ONEDNN_MAX_CPU_ISA={mimic}" if mimic else "")


def timed_run(settings, photo, painting, network) -> dict:
    """Run once; every record's arrival time (from the call), time left, step and picture."""
    records = []
    started = time.perf_counter()
    for record in stylize(photo, painting, settings.replace(preview_every=1), network=network):
        records.append((time.perf_counter() - started, record))
    return {"records": records, "total": records[-1][0], "last": records[-1][1]}


def judged(run: dict, photo, painting, every: float) -> list[tuple[float, float, np.ndarray]]:
    """(seconds, style match, picture) for the records worth judging: the first EARLY_STEPS, the first after each
    `every` seconds, and the last."""
    chosen, next_mark = [], 0.0
    for index, (seconds, record) in enumerate(run["records"]):
        if record.step <= EARLY_STEPS or seconds >= next_mark or index == len(run["records"]) - 1:
            chosen.append((seconds, quality.style_match(record.image, photo, painting), record.image))
            while next_mark <= seconds:
                next_mark += every
    return chosen


def worst_time_left_error(run: dict) -> tuple[float, int, float, float] | None:
    """The largest |shown - true| / true time left over the records from the 5th step to the one before last, with
    its step, the time left shown and the true one."""
    errors = [
        (
            abs(record.eta - (run["total"] - seconds)) / (run["total"] - seconds),
            record.step,
            record.eta,
            run["total"] - seconds,
        )
        for seconds, record in run["records"]
        if record.step >= 5 and not record.done and record.eta is not None and run["total"] > seconds
    ]
    return max(errors) if errors else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--content", default=str(SHARED / "tubingen.jpg" if SHARED.is_dir() else ASSETS / "content_landscape.png")
    )
    parser.add_argument(
        "--style", default=str(SHARED / "starry_night.jpg" if SHARED.is_dir() else ASSETS / "style_swirls.png")
    )
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument(
        "--precision",
        default="auto",
        help="auto (each preset's own: bfloat16 where the CPU has it, best float32) or float32",
    )
    parser.add_argument("--presets", default="quick,balanced,best")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between points of the quality curve")
    parser.add_argument("--network", default="auto")
    parser.add_argument("--gram-network", default="vgg16-hed", help="the other network judging by Gram match")
    parser.add_argument("--save", metavar="DIR", help="write each method's final picture here")
    parser.add_argument("--sheet", metavar="FILE", help="write the final pictures side by side, with their times")
    parser.add_argument(
        "--seed-known",
        metavar="MATCH,SECONDS",
        help="skip the seed loop (an exact run: its "
        "figures don't change) and use its final style match and time from an earlier run here",
    )
    arguments = parser.parse_args(argv)

    network = load_network(arguments.network)
    judge = load_network(arguments.gram_network)
    photo = images.to_uint8(
        images.resize_longer_side(quality.load(arguments.content).astype(np.float32) / 255.0, arguments.size)
    )
    painting = quality.load(arguments.style)
    methods = [] if arguments.seed_known else [("seed", preset("seed", size=arguments.size))]
    forced = {"precision": arguments.precision} if arguments.precision != "auto" else {}  # else each preset's own
    methods += [(name, preset(name, size=arguments.size, **forced)) for name in arguments.presets.split(",") if name]
    for precision in sorted({settings.precision for _, settings in methods}):
        warm_up(network, precision)
        list(
            stylize(
                photo,
                painting,
                preset("balanced", size=arguments.size, precision=precision, steps=2, start_size=None),
                network=network,
            )
        )
    print(
        f"# {cpu_name()}; {network.label}; {photo.shape[1]}x{photo.shape[0]} px; "
        f"{Path(arguments.content).name} x {Path(arguments.style).name}; presets in "
        f"{resolve_precision(arguments.precision)}",
        flush=True,
    )

    results = []
    for name, settings in methods:
        run = timed_run(settings, photo, painting, network)
        run["name"], run["precision"] = name, resolve_precision(settings.precision)
        run["curve"] = judged(run, photo, painting, arguments.every)
        picture = run["last"].image
        run["keep"] = quality.content_keep(picture, photo)
        run["gram"] = quality.gram_match(picture, photo, painting, judge)
        results.append(run)
        print(
            f"{name}: {run['total']:.1f} s, {run['last'].settings.steps_text()}, style match {run['curve'][-1][1]:.2f}",
            flush=True,
        )
        if arguments.save:
            images.save_png(Path(arguments.save) / f"{name}.png", picture)

    if arguments.sheet:
        cells = [(f"{run['name']}: {run['total']:.0f} s", run["last"].image) for run in results]
        quality.contact_sheet([(cpu_name(), cells)]).save(arguments.sheet)
    if arguments.seed_known:
        match, seconds = map(float, arguments.seed_known.split(","))
        seed = {"total": seconds, "curve": [(seconds, match, None)]}
    else:
        seed = results[0]
    target = seed["curve"][-1][1]
    print(
        f"\nThe seed loop's final style match: {target:.2f}, in {seed['total']:.1f} s"
        + (" (from an earlier run)" if arguments.seed_known else "")
        + ".\n"
    )
    print(
        f"| method | precision | total | steps | style match / content keep at the end | Gram match "
        f"({judge.label}) | time to the seed loop's style match | share of its time | time left, worst error "
        "from step 5 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run in results:
        reached = next((seconds for seconds, match, _ in run["curve"] if match >= target), None)
        error = worst_time_left_error(run)
        print(
            f"| {run['name']} | {run['precision']} | {run['total']:.1f} s | {run['last'].settings.steps_text()} | "
            f"{run['curve'][-1][1]:.2f} / {run['keep']:.2f} | {run['gram']:.2f} | "
            + (f"{reached:.1f} s | {reached / seed['total']:.0%}" if reached is not None else "not reached | —")
            + " | "
            + ("—" if error is None else "{:.0%} (step {}: {:.1f} s shown, {:.1f} s true)".format(*error))
            + " |"
        )
    marks = [mark for mark in (5, 10, 15, 30, 45, 60, 90, 120, 180, 240) if mark <= max(r["total"] for r in results)]
    print("\nStyle match against time (the last judged picture by then):\n")
    print("| method | " + " | ".join(f"{mark} s" for mark in marks) + " | end |")
    print("|---" * (len(marks) + 2) + "|")
    for run in results:
        cells = []
        for mark in marks:
            before = [match for seconds, match, _ in run["curve"] if seconds <= mark]
            cells.append(f"{before[-1]:.2f}" if before and mark <= run["total"] + arguments.every else "")
        print(f"| {run['name']} | " + " | ".join(cells) + f" | {run['curve'][-1][1]:.2f} |")


if __name__ == "__main__":
    main()
