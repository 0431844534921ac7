"""Command line: `python -m stylize CONTENT STYLE -o OUT.png`, with the app's settings and a progress bar."""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from .. import transfer
from ..core import images
from ..core.errors import one_line
from ..core.limits import decode_sides
from ..core.precision import resolve_precision
from ..core.recipe import recipe_text, settings_from_png
from ..core.settings import (
    COLORS,
    CONTENT_LAYERS,
    DEFAULT_PRESET,
    INITS,
    MACHINE_PACED,
    NETWORKS,
    OPTIMIZERS,
    PRECISIONS,
    PRESETS,
    SECONDS_RANGE,
    SIZE_RANGE,
    STEPS_RANGE,
    STRENGTH_MIDDLE,
    STRENGTH_RANGE,
    Settings,
    overridden,
    preset,
)
from ..gatys import loop, networks
from . import parsed

# Flags that map one-to-one onto Settings fields; their defaults come from the preset, not from here.
SETTING_FLAGS = {
    "size": (int, f"longer side of the output in pixels ({SIZE_RANGE[0]}-{SIZE_RANGE[1]})"),
    "seconds": (
        float,
        f"time budget in seconds ({SECONDS_RANGE[0]:g}-{SECONDS_RANGE[1]:g}): the run plans its steps "
        "to end within it ("
        + ", ".join(f"{name} {fields['seconds']:g}" for name, fields in PRESETS.items() if fields.get("seconds"))
        + ")",
    ),
    "steps": (
        int,
        f"exact optimizer steps at the full size ({STEPS_RANGE[0]}-{STEPS_RANGE[1]}) instead of a time budget",
    ),
    "strength": (
        float,
        f"style strength, {STRENGTH_RANGE[0]:g} (the photo) to {STRENGTH_RANGE[1]:g} (the painting); "
        f"default {STRENGTH_MIDDLE:g}",
    ),
    "style_weight": (float, "raw weight of the style loss (default: set by --strength)"),
    "content_weight": (float, "raw weight of the content loss"),
    "tv_weight": (float, "raw weight of the total-variation loss"),
    "optimizer": (str, "one of " + ", ".join(OPTIMIZERS)),
    "learning_rate": (float, "Adam's step size"),
    "start_size": (int, "coarse-to-fine: the first scale's longer side"),
    "coarse_steps": (int, "steps at each scale below the full size (with a time budget: the most)"),
    "precision": (str, "one of " + ", ".join(PRECISIONS)),
    "network": (str, "one of " + ", ".join(NETWORKS)),
    "init": (str, "the starting picture, one of " + ", ".join(INITS)),
    "seed": (int, "random seed for noise initialisation"),
    "style_scale": (float, "style image size relative to the output: above 1 paints bigger strokes"),
    "colors": (str, "whose colours to keep, one of " + ", ".join(COLORS)),
    "layer_emphasis": (float, "-1 fine texture ... +1 large shapes (0: equal style layers)"),
    "content_layer": (str, "the layer the content loss compares, one of " + ", ".join(CONTENT_LAYERS)),
    "preview_every": (int, "report progress every N steps"),
    "tile_detail": (
        float,
        "a poster's share of the instant network's fine detail, 0-1 (default: the share whose 1:1 crops are "
        "nearest the painting's)",
    ),
}


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stylize",
        description="Paint a photo in the style of a painting (Gatys et al. neural style transfer).",
    )
    parser.add_argument("content", help="the photo (PNG, JPEG or WebP)")
    parser.add_argument("style", nargs="+", help="the painting whose style to take (several: blended, see --blend)")
    parser.add_argument("-o", "--output", required=True, help="where to write the result (PNG)")
    parser.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        help=f"one of {', '.join(PRESETS)} (default {DEFAULT_PRESET}); other flags override it",
    )
    parser.add_argument(
        "--recipe", metavar="PNG", help="start from the settings stored in a result PNG (other flags override them)"
    )
    parser.add_argument(
        "--weights",
        dest="weights_path",
        metavar="PATH",
        help="a local VGG19 weights file (.h5) for machines without network",
    )
    parser.add_argument(
        "--save-every",
        type=int,
        default=0,
        metavar="N",
        help="also write the picture every N steps, as OUT-stepNNNN.png",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--blend",
        dest="style_blend",
        type=float,
        nargs="+",
        metavar="W",
        help="one weight per style image (default: equal)",
    )
    parser.add_argument(
        "--mask",
        metavar="PATH",
        help="a picture whose light areas get the style, dark areas stay the photo (greyscale, any size)",
    )
    for name, (kind, help_text) in SETTING_FLAGS.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=help_text)
    return parsed(parser, argv)


def settings_from_arguments(arguments: argparse.Namespace) -> Settings:
    overrides = {
        name: getattr(arguments, name)
        for name in [*SETTING_FLAGS, "weights_path", "style_blend"]
        if getattr(arguments, name) is not None
    }
    if arguments.recipe:  # a result PNG's settings (the steps it took at each scale), then the flags on top
        return overridden(settings_from_png(arguments.recipe)[0], **overrides)
    return preset(arguments.preset, **overrides)


def run(arguments: argparse.Namespace) -> Path:
    settings = settings_from_arguments(arguments)
    output = Path(arguments.output)
    if output.suffix.lower() != ".png":
        raise ValueError(f"output is {str(output)!r} but must end in .png (the result is saved losslessly)")
    if arguments.save_every < 0:
        raise ValueError(f"--save-every is {arguments.save_every} but must be 0 (off) or a positive number")
    check_output(output, [arguments.content, *arguments.style, arguments.mask, arguments.recipe])
    # Fail on bad input before loading a network; the checked pictures go to the engine as they are.
    content, styles = loop.checked_pictures(arguments.content, arguments.style, settings)
    mask = (
        images.load_image(arguments.mask, "mask", decode_sides(settings)[0]).mean(axis=-1) if arguments.mask else None
    )
    network = networks.load_network(settings.network, settings.weights_path)
    print(f"Network: {network.label}" + (f" — {network.note}" if network.note else ""), file=sys.stderr)
    precision = resolve_precision(settings.precision)
    print(
        f"Precision: {precision}"
        + (" (auto: chosen for this machine's CPU/GPU)" if settings.precision == "auto" else ""),
        file=sys.stderr,
    )
    # Loading's last part, not in the run's time budget. A time budget at a poster's size, and best's at any, is made
    # of the pace it measures (the preset's default time, the tiles' share of it); exact steps use none.
    paced = settings.seconds is not None and (settings.poster or arguments.preset in MACHINE_PACED)
    compiled = transfer.warm_up(network, settings.precision, tile_pace=paced, content_layers=(settings.content_layer,))
    if paced and not arguments.recipe:  # the preset's default time, now at this machine's pace
        settings = settings_from_arguments(arguments)
    print(
        ("Compiled the optimizer's step and timed a tile step" if paced else "Compiled the optimizer's step")
        + f" in {compiled:.1f} s"
        + (f"; the run takes at most {settings.seconds:g} s" if settings.seconds is not None else ""),
        file=sys.stderr,
    )
    if arguments.save_every:
        settings = settings.replace(preview_every=math.gcd(settings.preview_every, arguments.save_every))
    about = {
        "network": network.label,
        "content": Path(arguments.content).name,
        "style": [Path(path).name for path in arguments.style],
    }
    # tqdm's own time left counts steps, but a coarse step costs a fraction of a full one: the engine's eta instead.
    # Under a time budget the total is the plan's, re-estimated as the run measures its pace.
    bar = tqdm(
        total=settings.total_steps if settings.seconds is None else None,
        unit="step",
        disable=arguments.quiet,
        file=sys.stderr,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}{postfix}]",
    )
    last = None
    try:
        with bar:
            for record in transfer.stylize_pictures(content, styles, settings, network=network, mask=mask):
                if bar.total != record.total:
                    bar.total = record.total
                if record.losses:  # before the update, which redraws the bar with it
                    left = {"left": tqdm.format_interval(record.eta)} if record.eta is not None else {}
                    bar.set_postfix(
                        loss=f"{record.losses['total']:.4g}", size=f"{record.image.shape[1]}px", **left, refresh=False
                    )
                bar.update(record.step - bar.n)
                if arguments.save_every and record.step and record.step % arguments.save_every == 0 and not record.done:
                    step_file = output.with_name(f"{output.stem}-step{record.step:04d}.png")
                    images.save_png(step_file, record.image, recipe_text(record.settings or settings, about))
                last = record
    except loop.LossNotFinite as error:  # keep the last good picture beside the output, which is not written
        kept = output.with_name(f"{output.stem}-step{error.last.step:04d}.png")
        images.save_png(kept, error.last.image, recipe_text(error.last.settings or settings, about))
        raise ValueError(f"{error}; it is in {kept}") from None
    except KeyboardInterrupt:  # Ctrl-C keeps the picture so far (a poster's at full size), with the steps it took
        if last is not None and last.step:
            images.save_png(output, last.image, recipe_text(last.settings or settings, about))
            raise KeyboardInterrupt(f"stopped at step {last.step}: the picture so far is in {output}") from None
        raise
    assert last is not None  # a run yields at least its starting picture
    # The steps the run took at each scale: --recipe replays them exactly.
    images.save_png(output, last.image, recipe_text(last.settings or settings, about))
    print(
        f"Wrote {output} ({last.image.shape[1]}x{last.image.shape[0]}) in {last.elapsed:.1f} s: "
        f"{(last.settings or settings).steps_text()}",
        file=sys.stderr,
    )
    return output


def check_output(output: Path, inputs: list[str | None]) -> None:
    """Before a long run: the output must not be one of the inputs, and its folder must take a new file."""
    for source in filter(None, inputs):
        if output.resolve() == Path(source).resolve() or (output.exists() and output.samefile(source)):
            raise ValueError(f"output {str(output)!r} is also an input picture: choose another file name")
    folder = output.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(f"output folder {str(folder)!r} is not writable ({error.strerror or error})") from None


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        run(arguments)
    except (ValueError, OSError) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory: choose a smaller --size or --style-scale", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        print(str(stop) or "stopped: nothing was written", file=sys.stderr)
        return 130
    except Exception as error:  # NetworkUnavailable, TensorFlow's out-of-memory and the like: one line
        if type(error).__name__ == "ResourceExhaustedError":
            print("error: out of memory: choose a smaller --size or --style-scale", file=sys.stderr)
            return 2
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
