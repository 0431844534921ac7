"""Speed benchmark of the feed-forward paths: a transformation network per picture size, instant mode, webcam fps.

    python bench/fast.py [--widths 1,0.5,0.25] [--precisions float32,bfloat16] [--model TRAINED.keras]
                         [--instant-model DIR] [--repeats 5]

Prints a Markdown table of the median seconds per picture at 512 and 1024 px (square, longer side) and frames
per second at 320x240 through stylize_frame, after a warm-up call that traces. Freshly initialised networks
time the same as trained ones (the arithmetic does not depend on the weights). Without --instant-model, the
instant row uses a stand-in SavedModel of the same call signature, so it times only this package's wrapper
(resizing, blending, conversion), not Magenta's network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from stylize.fast import apply_transformer, build_transformer, instant_stylize, load_instant  # noqa: E402
from stylize.fast import load_transformer, stylize_frame  # noqa: E402

TARGET_SECONDS_512 = 0.5  # the targets
TARGET_FPS = 5.0


class StandIn(tf.Module):
    """The instant network's call signature with almost no arithmetic: what remains is the wrapper's cost."""

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)] * 2)
    def __call__(self, content, style):
        return [0.5 * content + 0.5 * tf.reduce_mean(style, axis=[1, 2], keepdims=True)]


def median_seconds(run, repeats: int) -> float:
    run()  # traces
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="1,0.5,0.25", help="widths of fresh networks to time")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--model", default=None, help="also time this trained .keras network")
    parser.add_argument("--instant-model", default=None, help="the real instant network's folder, if you have it")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    pictures = {side: rng.uniform(0, 1, (side, side, 3)).astype(np.float32) for side in (512, 1024)}
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)

    networks = [(f"transformer width {float(w):g}", build_transformer(float(w))) for w in args.widths.split(",")]
    if args.model:
        networks.append((f"trained {Path(args.model).name}", load_transformer(args.model)))
    print(f"TensorFlow {tf.__version__}, {tf.config.threading.get_intra_op_parallelism_threads() or 'all'} threads,"
          f" devices: {', '.join(d.device_type for d in tf.config.list_physical_devices())},"
          f" load average before: {os.getloadavg()[0]:.1f} (other processes on the cores slow every figure)\n")
    print("| network | precision | 512 px s/picture | 1024 px s/picture | webcam 320x240 fps |")
    print("| --- | --- | --- | --- | --- |")
    for name, model in networks:
        for precision in args.precisions.split(","):
            seconds = {side: median_seconds(lambda: apply_transformer(model, picture, precision=precision),
                                            args.repeats) for side, picture in pictures.items()}
            fps = 1.0 / median_seconds(lambda: stylize_frame(model, frame, precision=precision), args.repeats * 2)
            flag = "" if seconds[512] <= TARGET_SECONDS_512 and fps >= TARGET_FPS else " (misses a target)"
            print(f"| {name}{flag} | {precision} | {seconds[512]:.3f} | {seconds[1024]:.3f} | {fps:.1f} |", flush=True)

    with tempfile.TemporaryDirectory() as folder:
        if args.instant_model:
            instant, label = load_instant(args.instant_model), "instant (Magenta)"
        else:
            tf.saved_model.save(StandIn(), folder)
            instant, label = load_instant(folder), "instant stand-in (wrapper only)"
        style = rng.uniform(0, 1, (300, 400, 3)).astype(np.float32)
        seconds = {side: median_seconds(lambda: instant_stylize(picture, style, model=instant), args.repeats)
                   for side, picture in pictures.items()}
        fps = 1.0 / median_seconds(lambda: stylize_frame(instant, frame, style=style), args.repeats * 2)
        print(f"| {label} | float32 | {seconds[512]:.3f} | {seconds[1024]:.3f} | {fps:.1f} |")
    print(f"\nTargets: at most {TARGET_SECONDS_512} s per 512 px picture, at least {TARGET_FPS:g} webcam frames/s.")


if __name__ == "__main__":
    main()
