"""Speed benchmark: the seed loop against each preset on one photo and painting, all scored by the same objective.

    python bench/speed.py [--content PHOTO --style PAINTING] [--size 512] [--network vgg16-hed|vgg19]
                          [--methods seed:normalize=true,quick,balanced,best]

Prints a Markdown table: seconds per step at each size, wall time until the full-size objective (the normalised
loss terms with the default weights, evaluated on the full-size uint8 picture, evaluation time excluded) reaches
what the baseline (the first method, by default the seed loop on the same objective) has after its steps,
the time until the picture reaches the baseline's final style match (bench/quality.py) and its content keep
then, objective at equal wall time, time to the first preview, and peak resident memory during each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from stylize import images, load_network, preset
from stylize.objective import build_objective
from stylize.weights import loss_weights
from stylize.optimize import stylize

import quality  # beside this script
from quality import preset_with_overrides, split_methods

ASSETS = Path(__file__).resolve().parent.parent / "assets"
BUDGETS = (20.0, 60.0)  # "objective at equal wall time" is read at these seconds


class PeakMemory:
    """Samples this process's resident memory in a thread; peak() is the largest seen since start()."""

    def __init__(self):
        self._peak, self._running = 0, False

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))

    def _sample(self):
        while self._running:
            self._peak = max(self._peak, self._rss())
            time.sleep(0.05)

    def __enter__(self):
        self._peak, self._running = self._rss(), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._running = False
        self._thread.join()

    def peak(self) -> int:
        return self._peak


def run_method(name, settings, content, style, network, score, evaluate_every):
    """Run one method; return its trajectory [(run seconds, objective)], step times per size, and figures."""
    trajectory, step_times, first_preview, first_step_preview = [], {}, None, None
    run_seconds, previous_step_end = 0.0, None
    with PeakMemory() as memory:
        generator = stylize(content, style, settings.replace(preview_every=1), network=network)
        while True:
            started = time.perf_counter()
            try:
                record = next(generator)
            except StopIteration:
                break
            spent = time.perf_counter() - started
            run_seconds += spent
            side = max(record.image.shape[:2])
            if record.step == 0:
                first_preview = run_seconds
            else:
                if first_step_preview is None:
                    first_step_preview = run_seconds
                # The first step of each size includes tracing: left out of the per-step figure.
                if previous_step_end == side:
                    step_times.setdefault(side, []).append(spent)
                previous_step_end = side
            at_full_size = side == settings.size
            if record.done or (record.step and record.step % evaluate_every == 0) or (
                    at_full_size and record.step % max(1, evaluate_every // 2) == 0):
                trajectory.append((run_seconds, *score(record.image)))
    return {"name": name, "trajectory": trajectory, "step_times": step_times, "first_preview": first_preview,
            "first_step_preview": first_step_preview, "peak": memory.peak(), "total": run_seconds,
            "picture": record.image}


def time_to_reach(trajectory, target):
    return next((seconds for seconds, objective, *_ in trajectory if objective <= target), None)


def objective_at(trajectory, seconds):
    reached = [objective for at, objective, *_ in trajectory if at <= seconds]
    return min(reached) if reached else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", default=str(ASSETS / "content_landscape.png"))
    parser.add_argument("--style", default=str(ASSETS / "style_swirls.png"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--network", default="vgg16-hed", help="vgg16-hed (offline, default) or vgg19")
    parser.add_argument("--methods", default="seed:normalize=true,quick,balanced,balanced:precision=float32,best",
                        help="presets, each optionally with :field=value,... overrides; the first is the baseline")
    parser.add_argument("--save", metavar="DIR", help="write each method's final picture here")
    arguments = parser.parse_args(argv)

    network = load_network(arguments.network)
    # Every method gets the same pictures, already at the output size: then all of them minimize exactly
    # the same objective (the seed's own resize would alias a large painting; the presets' would not).
    content = images.resize_longer_side(images.load_image(arguments.content, "content image"), arguments.size)
    style = images.resize_longer_side(images.load_image(arguments.style, "style image"), arguments.size)
    reference = preset("seed", size=arguments.size, normalize=True)
    objective = build_objective(network, content, style, loss_weights(reference, network), normalize=True)
    evaluate = tf.function(lambda image: objective(image)["total"])
    photo, painting = images.to_uint8(content), images.to_uint8(style)

    def score(picture: np.ndarray) -> tuple[float, float, float]:
        """(objective, style match, content keep) of a uint8 picture at any scale."""
        full = picture.astype(np.float32) / 255.0
        if full.shape[:2] != content.shape[:2]:
            full = images.resize(full, content.shape[:2], antialias=False)
        return (float(evaluate(tf.constant(full[None]))), quality.style_match(picture, photo, painting),
                quality.content_keep(picture, photo))

    print(f"# {network.label}, {arguments.size} px, {os.cpu_count()} CPU cores, "
          f"{Path(arguments.content).name} + {Path(arguments.style).name}", flush=True)
    results = []
    for name in split_methods(arguments.methods):
        settings = preset_with_overrides(name, arguments.size)
        result = run_method(name, settings, content, style, network, score,
                            evaluate_every=10 if settings.optimizer == "adam" else 2)
        results.append(result)
        print(f"{name}: {result['total']:.1f} s, final objective {result['trajectory'][-1][1]:.4g}", flush=True)
        if arguments.save:
            images.save_png(Path(arguments.save) / f"{name.replace(':', '-').replace(',', '-')}.png", result["picture"])

    seed = results[0]
    _, target, target_match, _ = seed["trajectory"][-1]
    print(f"\nBaseline {seed['name']}: objective {target:.4g}, style match {target_match:.2f}")
    print("| method | s/step by size | time to baseline's objective | vs baseline | time to its style match "
          "(content keep then) | objective at " + " | objective at ".join(f"{b:.0f} s" for b in BUDGETS)
          + " | final objective | final style match / content keep | total | first preview "
            "| first stylized preview | peak memory |")
    print("|---" * (11 + len(BUDGETS)) + "|")
    for result in results:
        per_size = ", ".join(f"{side}px {statistics.median(times):.2f}" for side, times in
                             sorted(result["step_times"].items()))
        reach = time_to_reach(result["trajectory"], target)
        ratio = f"{reach / time_to_reach(seed['trajectory'], target):.0%}" if reach else "not reached"
        matched = next(((at, keep) for at, _, match, keep in result["trajectory"] if match >= target_match), None)
        at_match = f"{matched[0]:.1f} s ({matched[1]:.2f})" if matched else "not reached"
        at_budgets = " | ".join(_fmt(objective_at(result["trajectory"], b)) for b in BUDGETS)
        _, final, match, keep = result["trajectory"][-1]
        print(f"| {result['name']} | {per_size} | {_fmt_s(reach)} | {ratio} | {at_match} | {at_budgets} | "
              f"{final:.4g} | {match:.2f} / {keep:.2f} | {result['total']:.1f} s | {result['first_preview']:.2f} s | "
              f"{result['first_step_preview']:.2f} s | {result['peak'] / 2**30:.2f} GB |")


def _fmt(value):
    return "—" if value is None else f"{value:.4g}"


def _fmt_s(value):
    return "not reached" if value is None else f"{value:.1f} s"


if __name__ == "__main__":
    main()
