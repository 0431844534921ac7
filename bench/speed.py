"""Speed benchmark: the seed loop against each preset on one photo and painting, all scored by the same objective.

    python bench/speed.py [--content PHOTO --style PAINTING] [--size 512] [--network vgg16-hed|vgg19]
                          [--methods seed,quick,balanced,best]

Prints a Markdown table: seconds per step at each size, wall time until the full-size objective (the seed's
loss formula with the network's default weights, evaluated on the full-size uint8 picture, evaluation time
excluded) reaches what the seed loop has after its 200 steps, objective at equal wall time, time to the first
preview, and peak resident memory during each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from stylize import images, load_network, preset  # noqa: E402
from stylize.optimize import build_objective, loss_weights, stylize  # noqa: E402

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
                trajectory.append((run_seconds, score(record.image)))
    return {"name": name, "trajectory": trajectory, "step_times": step_times, "first_preview": first_preview,
            "first_step_preview": first_step_preview, "peak": memory.peak(), "total": run_seconds,
            "picture": record.image}


def split_methods(text: str) -> list[str]:
    """'seed,balanced:precision=float32,steps=9,best' -> ['seed', 'balanced:precision=float32,steps=9', 'best']."""
    methods = []
    for part in text.split(","):
        if "=" in part and ":" not in part and methods:  # another override of the method before
            methods[-1] += "," + part
        else:
            methods.append(part)
    return methods


def preset_with_overrides(method: str, size: int):
    name, _, overrides = method.partition(":")
    fields = dict(pair.split("=") for pair in overrides.split(",")) if overrides else {}
    current = preset(name)
    typed = {key: _typed(value, getattr(current, key)) for key, value in fields.items()}
    return preset(name, size=size, **typed)


def _typed(text: str, current):
    """text as the type of the field's current value (a number where the field is None)."""
    if isinstance(current, bool):
        return text.lower() in ("1", "true", "yes")
    if current is None or isinstance(current, (int, float)):
        number = float(text)
        return int(number) if number.is_integer() and not isinstance(current, float) else number
    return type(current)(text)


def time_to_reach(trajectory, target):
    return next((seconds for seconds, objective in trajectory if objective <= target), None)


def objective_at(trajectory, seconds):
    reached = [objective for at, objective in trajectory if at <= seconds]
    return min(reached) if reached else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", default=str(ASSETS / "content_landscape.png"))
    parser.add_argument("--style", default=str(ASSETS / "style_swirls.png"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--network", default="vgg16-hed", help="vgg16-hed (offline, default) or vgg19")
    parser.add_argument("--methods", default="seed,quick,balanced,balanced:precision=float32,best",
                        help="presets, each optionally with :field=value,... overrides")
    parser.add_argument("--save", metavar="DIR", help="write each method's final picture here")
    arguments = parser.parse_args(argv)

    network = load_network(arguments.network)
    # Every method gets the same pictures, already at the output size: then all of them minimize exactly
    # the same objective (the seed's own resize would alias a large painting; the presets' would not).
    content = images.resize_longer_side(images.load_image(arguments.content, "content image"), arguments.size)
    style = images.resize_longer_side(images.load_image(arguments.style, "style image"), arguments.size)
    reference = preset("seed", size=arguments.size)
    objective = build_objective(network, content, style, loss_weights(reference, network))
    evaluate = tf.function(lambda image: objective(image)["total"])

    def score(picture: np.ndarray) -> float:
        picture = picture.astype(np.float32) / 255.0
        if picture.shape[:2] != content.shape[:2]:
            picture = images.resize(picture, content.shape[:2], antialias=False)
        return float(evaluate(tf.constant(picture[None])))

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

    seed = next((r for r in results if r["name"] == "seed"), None)
    target = seed["trajectory"][-1][1] if seed else None
    print()
    print("| method | s/step by size | time to seed's objective | vs seed | objective at "
          + " | objective at ".join(f"{b:.0f} s" for b in BUDGETS)
          + " | final objective | total | first preview | first stylized preview | peak memory |")
    print("|---" * (9 + len(BUDGETS)) + "|")
    for result in results:
        per_size = ", ".join(f"{side}px {statistics.median(times):.2f}" for side, times in
                             sorted(result["step_times"].items()))
        reach = time_to_reach(result["trajectory"], target) if target else None
        ratio = f"{reach / time_to_reach(seed['trajectory'], target):.0%}" if reach and seed else "not reached"
        at_budgets = " | ".join(_fmt(objective_at(result["trajectory"], b)) for b in BUDGETS)
        print(f"| {result['name']} | {per_size} | {_fmt_s(reach)} | {ratio} | {at_budgets} | "
              f"{result['trajectory'][-1][1]:.4g} | {result['total']:.1f} s | {result['first_preview']:.2f} s | "
              f"{result['first_step_preview']:.2f} s | {result['peak'] / 2**30:.2f} GB |")


def _fmt(value):
    return "—" if value is None else f"{value:.4g}"


def _fmt_s(value):
    return "not reached" if value is None else f"{value:.1f} s"


if __name__ == "__main__":
    main()
