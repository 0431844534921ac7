"""Video benchmark: flicker (E_warp), style match and frames per second of per-frame stylisation, un-warped blending
and flow-warped fusion.

    python bench/video.py [--painting PICTURE] [--builtin N] [--consistency 0.7] [--frames 48] [--size 512]
                          [--model TRAINED.keras --precision float32] [--self-target] [--no-speed] [--no-quality]

Clips with known motion made here from ../shared/images (pan, zoom, a moving object over a still background, a
cut between two pans) and a real-looking one (a hand-held walk over the Tübingen photo: slow zoom, turn and shake,
H.264-compressed and decoded again). For each stylizer and method it prints short-term (t, t+1) and long-term
(t, t+10) E_warp (Lai et al. 2018: the masked mean squared difference between output t+k and output t warped onto
it; x1000, pixels in [0, 1]), measured with a flow independent of the method's: the known motion on the made clips,
Farneback's on the real-looking one; the input's own E_warp is the floor. Style match: VGG16's Gram distance to the
painting (for a built-in style, to Starry Night painted in it), relative to per-frame's, so blurring can't win;
and the Grams' change from per frame's own frames, which needs no target (a self-painted target is nearer per
frame than a painting is, and magnifies the same change into a larger ratio).
Then end to end frames per second for a 10 s, 24 fps clip at 512 px, per-frame and fused, with the split.
AVX2 float32 mimic (the networks' TensorFlow parts; onnxruntime picks its own kernels):
    ONEDNN_MAX_CPU_ISA=AVX2 taskset -c 0,1 .venv/bin/python bench/video.py --precision float32
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf

from stylize.core import images
from stylize.core.cache import picture_key
from stylize.fast import build_transformer, load_bundled, load_transformer
from stylize.gatys.losses import gram_matrix
from stylize.gatys.networks import load_network
from stylize.video import DEFAULT_FUSION, Fusion, builtin_frames, instant_frames, stylize_clip, trained_frames
from stylize.video.clip import fused_frames
from stylize.video.ffmpeg import FrameReader, command
from stylize.video.fusion import Fuser
from stylize.video.stylizers import TrunkStylizer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"
WIDTH, HEIGHT = 512, 288  # 16:9 at 512 px
LONG = 10  # the long-term pair's distance
TARGETS = "E_warp cut >= 50% (made clips), >= 35% (real-looking), beats blending; style within 10%; >= 8 fps"


def photo(name: str, width: int) -> np.ndarray:
    """A shared picture as uint8, scaled to `width` (aspect kept)."""
    picture = images.load_image(SHARED / name, name)
    height = round(picture.shape[0] * width / picture.shape[1])
    return images.to_uint8(images.resize(picture, (height, width)))


# Clips: frames (uint8), and backward flows: flow(t, k) maps frame t+k's pixels into frame t, with a mask of where
# it is defined. Affine clips are made by sampling a picture at A_t [x, y, 1], so frame t+k's pixel x lies at
# A_t^-1 A_{t+k} x in frame t.


def affine_frames(picture: np.ndarray, matrices: list[np.ndarray]) -> list[np.ndarray]:
    return [
        cv2.warpAffine(picture, m[:2], (WIDTH, HEIGHT), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP) for m in matrices
    ]


def affine_flow(matrices: list[np.ndarray]):
    xs, ys = np.meshgrid(np.arange(WIDTH, dtype=np.float64), np.arange(HEIGHT, dtype=np.float64))
    points = np.stack([xs, ys, np.ones_like(xs)], axis=-1)

    def flow(t: int, k: int):
        relative = np.linalg.inv(matrices[t]) @ matrices[t + k]
        there = points @ relative.T
        moved = (there[..., :2] - points[..., :2]).astype(np.float32)
        inside = (
            (there[..., 0] >= 0) & (there[..., 0] <= WIDTH - 1) & (there[..., 1] >= 0) & (there[..., 1] <= HEIGHT - 1)
        )
        return moved, inside

    return flow


def matrix(x: float, y: float, scale: float = 1.0, angle: float = 0.0) -> np.ndarray:
    """Frame pixel -> picture pixel: scaled by `scale` (below 1: zoomed in), turned by angle (radians), at (x, y)."""
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    return np.array([[cos, -sin, x], [sin, cos, y], [0, 0, 1]])


def pan_clip(frames: int, name: str = "the_scream.jpg", step: float = 3.0):
    picture = photo(name, WIDTH + int(abs(step) * frames) + 8)
    start = 0.0 if step > 0 else abs(step) * frames
    matrices = [matrix(start + step * t, (picture.shape[0] - HEIGHT) / 2) for t in range(frames)]
    return affine_frames(picture, matrices), affine_flow(matrices)


def zoom_clip(frames: int):
    picture = photo("tubingen.jpg", int(WIDTH * 1.1))
    centre = np.array([picture.shape[1] / 2, picture.shape[0] / 2])
    matrices = []
    for t in range(frames):
        scale = 0.9 * 0.99**t  # 1% closer a frame
        matrices.append(matrix(*(centre - scale * np.array([WIDTH / 2, HEIGHT / 2])), scale))
    return affine_frames(picture, matrices), affine_flow(matrices)


def object_clip(frames: int, radius: int = 48, step: float = 4.0):
    """A disc cut from one picture gliding over another, still one."""
    background = photo("great_wave.jpg", 600)[:HEIGHT, :WIDTH]
    thing = photo("tubingen.jpg", 2 * radius)[: 2 * radius, : 2 * radius]
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    centres = [np.array([radius + 10 + step * t, HEIGHT / 2 + 20 * np.sin(t / 8)]) for t in range(frames)]

    def disc(t: int) -> np.ndarray:
        return (xs - centres[t][0]) ** 2 + (ys - centres[t][1]) ** 2 < radius**2

    clip = []
    for t in range(frames):
        frame = background.copy()
        map_x = (xs - centres[t][0] + radius).astype(np.float32)
        map_y = (ys - centres[t][1] + radius).astype(np.float32)
        moved = cv2.remap(thing, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        frame[disc(t)] = moved[disc(t)]
        clip.append(frame)

    def flow(t: int, k: int):
        moved = np.zeros((HEIGHT, WIDTH, 2), np.float32)
        inside = disc(t + k)
        moved[inside] = centres[t] - centres[t + k]
        defined = inside | ~disc(t)  # the background under the disc at t was not seen then
        return moved, defined

    return clip, flow


def cut_clip(frames: int):
    half = frames // 2
    first, first_flow = pan_clip(half, "the_scream.jpg")
    second, second_flow = pan_clip(frames - half, "great_wave.jpg", step=-2.0)

    def flow(t: int, k: int):
        if t < half <= t + k:  # across the cut nothing corresponds
            return np.zeros((HEIGHT, WIDTH, 2), np.float32), np.zeros((HEIGHT, WIDTH), bool)
        return first_flow(t, k) if t < half else second_flow(t - half, k)

    return first + second, flow


def handheld_clip(frames: int, folder: Path):
    """A walk over the Tübingen photo (zoom, turn, shake), through H.264 and back; its flow measured by Farneback."""
    picture = photo("tubingen.jpg", int(WIDTH * 1.3))
    rng = np.random.default_rng(0)
    shake = np.cumsum(rng.normal(0, 0.6, (frames, 2)), axis=0)
    matrices = []
    for t in range(frames):
        scale = 0.8 * 0.997**t
        x, y = 40 + 1.5 * t + shake[t, 0], (picture.shape[0] - HEIGHT * scale) / 2 + shake[t, 1]
        matrices.append(matrix(x, y, scale, 0.002 * t))
    made = affine_frames(picture, matrices)
    path = folder / "handheld.mp4"
    arguments = command("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", "24", "-i", "pipe:0")
    arguments += ["-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p", "-y", str(path)]
    import subprocess

    subprocess.run(arguments, input=b"".join(f.tobytes() for f in made), check=True)
    reader = FrameReader(
        command("-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"), (HEIGHT, WIDTH), folder / "decode.log"
    )
    clip = list(reader)
    reader.close()
    greys = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clip]

    def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 4, 21, 5, 7, 1.5, 0)

    def flow(t: int, k: int):
        backward, forward = farneback(greys[t + k], greys[t]), farneback(greys[t], greys[t + k])
        from stylize.video.flow import reliable

        return backward, reliable(backward, forward)

    return clip, flow


def warping_error(outputs: list[np.ndarray], flow, k: int) -> float:
    """Lai et al.'s E_warp between outputs t and t+k, averaged over t, x1000 (pixels in [0, 1])."""
    errors = []
    for t in range(len(outputs) - k):
        moved, mask = flow(t, k)
        if not mask.any():
            continue
        xs, ys = np.meshgrid(np.arange(WIDTH, dtype=np.float32), np.arange(HEIGHT, dtype=np.float32))
        warped = cv2.remap(outputs[t], xs + moved[..., 0], ys + moved[..., 1], cv2.INTER_LINEAR)
        difference = (outputs[t + k].astype(np.float32) - warped.astype(np.float32)) / 255.0
        errors.append(float((difference**2).sum(axis=-1)[mask].sum() / (3 * mask.sum())))
    return 1000 * float(np.mean(errors))


class StyleMatch:
    """VGG16's Gram distance to a target (relative Frobenius norm, averaged over the style layers)."""

    def __init__(self, target: np.ndarray):
        self.network = load_network("vgg16-hed")
        self.target = self.grams(target)

    def grams(self, picture: np.ndarray) -> dict[str, tf.Tensor]:
        features = self.network(tf.constant(picture[None], tf.float32) / 255.0)
        return {name: gram_matrix(features[name]) for name in self.network.style_layers}

    def distance(self, outputs: list[np.ndarray], every: int = 6) -> float:
        distances = []
        for picture in outputs[::every]:
            grams = self.grams(picture)
            distances += [
                float(tf.norm(grams[name] - self.target[name]) / tf.norm(self.target[name])) for name in grams
            ]
        return float(np.mean(distances))

    def change(self, outputs: list[np.ndarray], per_frame: list[np.ndarray], every: int = 6) -> float:
        """How far a method moved each frame's Grams from per-frame's own, relative: needs no target, so it
        compares stylizers whose targets differ (a painting, or a built-in style's picture painted by itself)."""
        changes = []
        for picture, own in zip(outputs[::every], per_frame[::every]):
            grams, owns = self.grams(picture), self.grams(own)
            changes += [float(tf.norm(grams[name] - owns[name]) / tf.norm(owns[name])) for name in grams]
        return float(np.mean(changes))


def cached(factory):
    """The factory's stylizer, each frame stylised once for all methods (the same frame gives the same output):
    one such per clip. A network fused inside is run anew when fused (its output then depends on the past)."""
    store: dict = {}

    def shot(first):
        stylizer = factory(first)

        def once(frame, fuse=None):
            return stylizer(frame, fuse) if fuse else store.setdefault(picture_key(frame), stylizer(frame))

        return TrunkStylizer(once) if isinstance(stylizer, TrunkStylizer) else once

    return shot


def quality(stylizers, clips, fusion: Fusion) -> None:
    methods = {
        "per frame": replace(fusion, consistency=0.0),
        "un-warped blend": replace(fusion, method="blend"),
        "flow-warped fusion": fusion,
    }
    print(f"\nFusion: {fusion}")
    print(
        "| stylizer | clip | method | E_warp (t,t+1) | E_warp (t,t+10) | cut vs per frame (t+1 / t+10) "
        "| style vs per frame | Grams' change from per frame |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, factory, target in stylizers:
        match = StyleMatch(target)
        for clip_name, (frames, flow) in clips.items():
            once = cached(factory)
            floor = (warping_error(frames, flow, 1), warping_error(frames, flow, LONG))
            results, per_frame = {}, []
            for method, settings in methods.items():
                outputs = [image for image, _ in fused_frames(frames, once, Fuser(settings))]
                per_frame = per_frame or outputs  # "per frame" runs first
                results[method] = (
                    warping_error(outputs, flow, 1),
                    warping_error(outputs, flow, LONG),
                    match.distance(outputs),
                    match.change(outputs, per_frame),
                )
            base = results["per frame"]
            for method, (short, long, style, change) in results.items():
                cuts = f"{1 - short / base[0]:+.0%} / {1 - long / base[1]:+.0%}" if method != "per frame" else "-"
                print(
                    f"| {label} | {clip_name} | {method} | {short:.2f} | {long:.2f} | {cuts} | {style / base[2]:.3f} "
                    f"| {change:.3f} |",
                    flush=True,
                )
            print(f"| {label} | {clip_name} | input (floor) | {floor[0]:.2f} | {floor[1]:.2f} | | | |", flush=True)


def speed(stylizers, folder: Path, size: int, fusion: Fusion) -> None:
    """End to end on a 10 s, 24 fps clip at `size`: per frame, then fused; the split from timed stylizer calls."""
    handheld_clip(240, folder)
    clip = folder / "handheld.mp4"
    print(
        f"\nEnd to end: {clip.name}, 240 frames (10 s at 24 fps), {WIDTH}x{HEIGHT}, load average "
        f"{os.getloadavg()[0]:.1f} before"
    )
    print(
        "| stylizer | consistency | fps end to end | s total | stylise s/frame | flow+warp s/frame "
        "| decode+encode+rest s/frame | added to stylising |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, factory, _ in stylizers:
        for weight in (0.0, fusion.consistency):
            spent = {"stylise": 0.0, "fuse": 0.0}

            def timed(first, factory=factory):
                stylizer = factory(first)

                def stylise(frame, fuse=None):
                    started, fusing = time.perf_counter(), spent["fuse"]
                    result = stylizer(frame, fuse) if fuse else stylizer(frame)
                    spent["stylise"] += time.perf_counter() - started - (spent["fuse"] - fusing)
                    return result

                return TrunkStylizer(stylise) if isinstance(stylizer, TrunkStylizer) else stylise

            original = Fuser._fused

            def fuse(self, place, current, weight=None):
                started = time.perf_counter()
                result = original(self, place, current, weight)
                spent["fuse"] += time.perf_counter() - started
                return result

            Fuser._fused = fuse
            try:
                started = time.perf_counter()
                records = list(
                    stylize_clip(clip, folder / "out.mp4", timed, size=size, consistency=weight, fusion=fusion)
                )
                total = time.perf_counter() - started
            finally:
                Fuser._fused = original
            count = records[-1].frame
            rest = total - spent["stylise"] - spent["fuse"]
            print(
                f"| {label} | {weight:g} | {count / total:.1f} | {total:.1f} | {spent['stylise'] / count:.3f} | "
                f"{spent['fuse'] / count:.4f} | {rest / count:.4f} | {total / spent['stylise'] - 1:+.0%} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--painting", default=str(SHARED / "udnie.jpg"), help="the instant network's style picture; '' skips it"
    )
    parser.add_argument("--builtin", default="3", help="a built-in style (or blend) to measure too; '' skips it")
    parser.add_argument("--model", default=None, help="also a trained network (.keras); 'fresh' times an untrained one")
    parser.add_argument("--precision", default="float32", help="the trained network's precision (float32, bfloat16)")
    parser.add_argument("--consistency", type=float, default=DEFAULT_FUSION.consistency)
    parser.add_argument("--flow-side", type=int, default=DEFAULT_FUSION.flow_side)
    parser.add_argument("--flow-preset", default=DEFAULT_FUSION.flow_preset, help="DIS: ultrafast, fast, medium")
    parser.add_argument("--mask-blur", type=float, default=DEFAULT_FUSION.mask_blur)
    parser.add_argument("--photometric", type=float, default=DEFAULT_FUSION.photometric)
    parser.add_argument("--still-tolerance", type=float, default=DEFAULT_FUSION.still_tolerance)
    parser.add_argument("--still-hold", type=float, default=DEFAULT_FUSION.still_hold)
    parser.add_argument("--frames", type=int, default=48, help="frames of each quality clip")
    parser.add_argument("--size", type=int, default=WIDTH)
    parser.add_argument(
        "--self-target", action="store_true", help="judge the instant network too against Starry Night painted by it"
    )
    parser.add_argument(
        "--pixels", action="store_true", help="fuse every stylizer's output pixels (a built-in's network: inside)"
    )
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-quality", action="store_true")
    args = parser.parse_args()

    networks = load_bundled()
    stylizers = []
    if args.painting:
        painting = images.load_image(args.painting, "painting")
        target = images.to_uint8(images.resize_longer_side(painting, WIDTH))
        stylizers.append((f"instant ({Path(args.painting).name})", instant_frames(painting, model=networks), target))
    if args.builtin:
        stylizers.append((f"built-in {args.builtin}", builtin_frames(args.builtin, networks=networks), None))
    if args.model:
        model = build_transformer() if args.model == "fresh" else load_transformer(args.model)
        stylizers.append(
            (f"trained {Path(args.model).name} {args.precision}", trained_frames(model, args.precision), None)
        )
    # A network without a painting: its look is taken from a picture in no clip, Starry Night, painted by it.
    reference = images.resize_longer_side(images.load_image(SHARED / "starry_night.jpg"), WIDTH)
    stylizers = [
        (
            label,
            factory,
            images.to_uint8(factory(reference)(reference)) if target is None or args.self_target else target,
        )
        for label, factory, target in stylizers
    ]
    fusion = replace(
        DEFAULT_FUSION,
        consistency=args.consistency,
        flow_side=args.flow_side,
        flow_preset=args.flow_preset,
        mask_blur=args.mask_blur,
        photometric=args.photometric,
        still_tolerance=args.still_tolerance,
        still_hold=args.still_hold,
        trunk=not args.pixels,
    )
    print(
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        f"(other processes on the cores slow every figure). Targets: {TARGETS}"
    )
    with tempfile.TemporaryDirectory() as folder:
        if not args.no_quality:
            clips = {
                "pan": pan_clip(args.frames),
                "zoom": zoom_clip(args.frames),
                "moving object": object_clip(args.frames),
                "cut": cut_clip(args.frames),
                "real-looking (Farneback)": handheld_clip(args.frames, Path(folder)),
            }
            quality(stylizers, clips, fusion)
        if not args.no_speed:
            speed(stylizers, Path(folder), args.size, fusion)


if __name__ == "__main__":
    main()
