"""Command line: train a fast style network, `python -m stylize.cli.train --style PAINTING --images DIR -o M.keras`."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from ..core.errors import NetworkUnavailable
from ..core.settings import NETWORKS
from ..fast.training import TrainSettings, preview_path, state_path, train
from . import parsed

_DEFAULTS = TrainSettings()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stylize.cli.train",
        description="Train an image transformation network (Johnson et al. 2016) that paints any photo in one "
        "style in a single pass.",
    )
    parser.add_argument("--style", required=True, help="the style picture (a painting)")
    parser.add_argument("--images", required=True, help="folder of training photos (subfolders too)")
    parser.add_argument("-o", "--output", required=True, help="the trained network, a .keras file")
    parser.add_argument("--size", type=int, default=_DEFAULTS.size, help="side of the square training crops")
    parser.add_argument(
        "--style-size", type=int, default=None, help="longer side the style picture is scaled to (default: --size)"
    )
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS.batch_size)
    parser.add_argument("--steps", type=int, default=_DEFAULTS.steps, help="total steps, counting resumed ones")
    parser.add_argument("--learning-rate", type=float, default=_DEFAULTS.learning_rate)
    parser.add_argument("--style-weight", type=float, default=None, help="default: the feature network's")
    parser.add_argument("--content-weight", type=float, default=None, help="default: the feature network's")
    parser.add_argument("--tv-weight", type=float, default=None, help="default: the feature network's")
    parser.add_argument(
        "--width",
        type=float,
        default=_DEFAULTS.width,
        help="filter multiplier of a new network: 0.5 runs about 3x faster, a little coarser",
    )
    parser.add_argument("--residual-blocks", type=int, default=_DEFAULTS.residual_blocks)
    parser.add_argument(
        "--preview-every",
        type=int,
        default=_DEFAULTS.preview_every,
        help="save OUTPUT_STEM.preview.png every N steps (0: never)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=_DEFAULTS.checkpoint_every,
        help="save the network and OUTPUT.state.npz every N steps (0: only at the end)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUTPUT and its .state.npz; the network's shape comes from the file",
    )
    parser.add_argument(
        "--network",
        choices=NETWORKS,
        default=_DEFAULTS.network,
        help="feature network for the losses; auto: ImageNet VGG19 if it can be had, else VGG16",
    )
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    return parsed(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = TrainSettings(
            network=args.network,
            size=args.size,
            style_size=args.style_size,
            batch_size=args.batch_size,
            steps=args.steps,
            learning_rate=args.learning_rate,
            style_weight=args.style_weight,
            content_weight=args.content_weight,
            tv_weight=args.tv_weight,
            width=args.width,
            residual_blocks=args.residual_blocks,
            preview_every=args.preview_every,
            checkpoint_every=args.checkpoint_every,
            seed=args.seed,
        )
        run = train(args.style, args.images, args.output, settings, resume=args.resume)
        bar = None
        last_checkpoint = None
        try:
            for record in run:
                if bar is None:  # the first record: the network is loaded and the folder read
                    for note in record.notes:
                        print(note, file=sys.stderr)
                    bar = tqdm(total=record.total, initial=record.step - 1, unit="step", dynamic_ncols=True)
                bar.update(1)
                postfix: dict[str, object] = {
                    "loss": f"{record.losses['total']:.4g}",
                    "img/s": f"{record.images_per_second:.1f}",
                }
                if record.skipped:
                    postfix["skipped"] = record.skipped
                bar.set_postfix(postfix, refresh=False)
                if record.checkpoint:
                    last_checkpoint = record.step
        except KeyboardInterrupt:
            run.close()
            if bar:
                bar.close()
            where = (
                f"the checkpoint at step {last_checkpoint} is in {args.output}; --resume continues from it"
                if last_checkpoint
                else "no checkpoint was written yet"
            )
            print(f"stopped: {where}", file=sys.stderr)
            return 130
        if bar:
            bar.close()
    except (ValueError, NetworkUnavailable) as error:  # bad settings, no photos, bad style, nothing to resume
        print(f"error: {error}", file=sys.stderr)
        return 2
    assert record.checkpoint is not None  # the last step (settings.steps) always writes a checkpoint
    skipped = f"; skipped {record.skipped} unreadable files" if record.skipped else ""
    preview = f", preview in {preview_path(record.checkpoint)}" if settings.preview_every else ""
    print(f"saved {args.output} (state in {state_path(record.checkpoint)}{preview}){skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
