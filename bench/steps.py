"""Seconds per optimizer step for each feature network, precision and optimizer at one size.

    python bench/steps.py [--size 512] [--steps 8]

VGG19 is timed with random weights when its ImageNet weights are not on this machine: the arithmetic, and so
the time, does not depend on the weights. Prints a Markdown table; the first step (tracing) is left out.
"""

import argparse
import statistics
import time

import numpy as np

from stylize import NetworkUnavailable, Settings, build_network, load_network, stylize


def seconds_per_step(network, settings, content, style) -> float:
    times, last = [], None
    for record in stylize(content, style, settings.replace(preview_every=1), network=network):
        now = time.perf_counter()
        if record.step >= 2:
            times.append(now - last)
        last = now
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=8)
    arguments = parser.parse_args()
    rng = np.random.default_rng(0)
    content = rng.uniform(0, 1, (arguments.size * 2 // 3, arguments.size, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (arguments.size, arguments.size, 3)).astype(np.float32)
    try:
        vgg19, vgg19_note = load_network("vgg19"), "ImageNet weights"
    except NetworkUnavailable:
        vgg19, vgg19_note = build_network("vgg19", weights=None), "random weights, same arithmetic"
    print(f"| network | optimizer | precision | s/step at {content.shape[1]}x{content.shape[0]} |")
    print("|---|---|---|---|")
    for network, note in ((vgg19, vgg19_note), (load_network("vgg16-hed"), "bundled weights")):
        for optimizer in ("adam", "lbfgs"):
            for precision in ("float32", "bfloat16"):
                settings = Settings(
                    size=arguments.size,
                    steps=arguments.steps,
                    optimizer=optimizer,
                    precision=precision,
                    start_size=None,
                    init="content",
                )  # full-size steps only
                seconds = seconds_per_step(network, settings, content, style)
                print(f"| {network.label} ({note}) | {optimizer} | {precision} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
