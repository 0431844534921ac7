"""Peak memory of one optimizer run by output size, each in a fresh process: what limits.py's formula is fitted to.

    python bench/memory.py [--sizes 128,256,384,512] [--network vgg16-hed] [--preset balanced] [--steps 3]
    python bench/memory.py --fast [--sizes 512,1024,2048]
    python bench/memory.py --decode
    python bench/memory.py --video [--sizes 256,512,1024]

For each size a child process loads the network, notes its resident memory (VmRSS), runs the preset on a 4:3
photo and a square painting (style scale 1) with few steps per scale (the peak comes in the first full-size
step), and reports the peak resident memory above that base (ru_maxrss). Prints a Markdown table and the
least-squares fit peak = fixed + per-pixel x output pixels. With --fast, the same for one call of the Instant
network (bundled) and of a built-in style, each size in a fresh process. With --decode, what decoding one 4000x3000
upload with an EXIF orientation holds, per pixel of its header, for each kind of file, each in a fresh process (the
peak above the process before it, VmHWM after a reset of it): what costs.py's "decode" row is set above. With
--video, a 4 s 1280x720 clip through a built-in style at each output size, with flow-warped fusion, each size in a
fresh process whose network has already run on a small clip: the peak above that (VmHWM), and the largest ffmpeg
child's (ru_maxrss of the children): what costs.py's "video" row is set above.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

import numpy as np


def measure(size: int, network_name: str, preset_name: str, steps: int) -> dict:
    from stylize import load_network, preset
    from stylize.transfer import stylize

    network = load_network(network_name)
    with open("/proc/self/status") as status:
        base = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) * 1024
    rng = np.random.default_rng(0)
    photo = rng.uniform(0, 1, (3 * size // 4, size, 3)).astype(np.float32)
    painting = rng.uniform(0, 1, (size, size, 3)).astype(np.float32)
    settings = preset(preset_name, size=size, steps=steps, coarse_steps=min(steps, 2))
    for _ in stylize(photo, painting, settings, network=network):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"size": size, "pixels": photo.shape[0] * photo.shape[1], "base": base, "peak": peak}


def measure_fast(size: int, kind: str) -> dict:
    from stylize import fast

    rng = np.random.default_rng(0)
    photo = rng.uniform(0, 1, (3 * size // 4, size, 3)).astype(np.float32)
    painting = rng.uniform(0, 1, (256, 256, 3)).astype(np.float32)
    small = photo[:48, :64]
    run = (
        (lambda picture: fast.instant_stylize(picture, painting, size=max(picture.shape[:2])))
        if kind == "instant"
        else (lambda picture: fast.builtin_stylize(picture, "0"))
    )
    run(small)  # the networks loaded
    with open("/proc/self/status") as status:
        base = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) * 1024
    run(photo)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"size": size, "pixels": photo.shape[0] * photo.shape[1], "base": base, "peak": peak, "kind": kind}


def measure_video(size: int, clip: str) -> dict:
    """Peak resident memory of one clip's run at output size (the process above its base, and ffmpeg's)."""
    from stylize import video

    frames = video.builtin_frames("0")
    for _ in video.stylize_clip(clip, f"{clip}.warm.mp4", frames, size=64):  # the network loaded and run
        pass
    with open("/proc/self/clear_refs", "w") as reset:  # the peak from here on (VmHWM)
        reset.write("5")
    base = status_bytes("VmRSS")
    children = [0]
    for _ in video.stylize_clip(clip, f"{clip}.{size}.mp4", frames, size=size):
        children.append(ffmpeg_bytes())  # the decoder and encoder, sampled once a frame
    shape = video.output_shape(video.probe(clip), size)
    peak = status_bytes("VmHWM")
    return {"size": size, "pixels": shape[0] * shape[1], "base": base, "peak": peak, "child": max(children)}


def ffmpeg_bytes() -> int:
    """The peak resident memory (VmHWM) of this process's running children, summed: ffmpeg's decoder and encoder."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if int(fields["PPid"]) == os.getpid() and "VmHWM" in fields:
                total += int(fields["VmHWM"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            pass  # it ended meanwhile
    return total


def video_table(arguments) -> None:
    import tempfile

    import imageio_ffmpeg

    if arguments.kind:  # the child: one size, in a fresh process
        print(json.dumps(measure_video(arguments.child, arguments.kind)))
        return
    clip = f"{tempfile.mkdtemp()}/clip.mp4"
    source = ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24:duration=4"]
    encode = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-y", clip]
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", *source, *encode], check=True)
    rows = []
    for size in [int(side) for side in arguments.sizes.split(",")]:
        command = [sys.executable, __file__, "--video", "--child", str(size), "--kind", clip]
        rows.append(
            json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        )
    table(rows, "a 1280x720 clip through built-in style 0, flow-warped fusion, this process")
    print("| output | ffmpeg's decoder and encoder, peak together (MB) |\n|---|---|")
    for row in rows:
        print(f"| {row['size']} px | {row['child'] / 2**20:.0f} |")


DECODE_KINDS = ("JPEG", "grey PNG", "palette PNG", "16-bit grey PNG", "RGB PNG", "RGBA PNG", "WebP", "RGBA WebP")


def measure_decode(path: str) -> dict:
    """Peak resident memory of images.load_image on one picture file, shrunk to 1024 px as uploads are, per pixel
    of its header (the file is made by another process, so its making leaves nothing to reuse here)."""
    from stylize.core import images

    with open("/proc/self/clear_refs", "w") as reset:  # the peak from here on (VmHWM)
        reset.write("5")
    base = status_bytes("VmRSS")
    header = images.read_header(path, "upload")
    images.load_image(path, "upload", 1024)
    return {"bytes per pixel": (status_bytes("VmHWM") - base) / header.pixels}


def save_decode_picture(kind: str, folder: str) -> str:
    """A 4000x3000 picture of kind with an EXIF orientation (exif_transpose has work to do), saved in folder."""
    picture = decode_picture(kind)
    exif = picture.getexif()
    exif[0x0112] = 6
    path = f"{folder}/decode-{kind.replace(' ', '-')}.{kind.split()[-1].lower()}"
    picture.save(path, exif=exif, **({"lossless": False} if "WebP" in kind else {}))
    return path


def decode_picture(kind: str):
    """A 4000x3000 noise picture in the mode kind names."""
    from PIL import Image

    ramp = np.linspace(0, 200, 4000, dtype=np.float32)[None, :, None]  # a photo-like gradient, a little noise: a
    noise = np.random.default_rng(0).integers(0, 4, (3000, 4000, 4))  # file under the upload limit
    pixels = (ramp + noise).astype(np.uint8)
    if kind == "grey PNG":
        return Image.fromarray(pixels[..., 0])
    if kind == "palette PNG":
        return Image.fromarray(pixels[..., :3]).quantize(64)
    if kind == "16-bit grey PNG":
        return Image.fromarray(pixels[..., 0].astype(np.uint16) * 257)
    return Image.fromarray(pixels if kind.startswith("RGBA") else pixels[..., :3])


def status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="128,256,384,512")
    parser.add_argument("--network", default="vgg16-hed")
    parser.add_argument("--preset", default="balanced")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--decode", action="store_true")
    parser.add_argument("--video", action="store_true")
    parser.add_argument("--kind", default="")
    parser.add_argument("--child", type=int)
    arguments = parser.parse_args()
    if arguments.decode:
        decode_table(arguments)
        return
    if arguments.video:
        video_table(arguments)
        return
    if arguments.child:
        print(
            json.dumps(
                measure_fast(arguments.child, arguments.kind)
                if arguments.kind
                else measure(arguments.child, arguments.network, arguments.preset, arguments.steps)
            )
        )
        return
    for kind in ("instant", "builtin") if arguments.fast else ("",):
        table(
            [
                json.loads(
                    subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--child",
                            str(size),
                            "--network",
                            arguments.network,
                            "--preset",
                            arguments.preset,
                            "--steps",
                            str(arguments.steps),
                            "--kind",
                            kind,
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                for size in [int(side) for side in arguments.sizes.split(",")]
            ],
            f"{kind or arguments.preset}, {'one call' if kind else arguments.network}, 4:3 photo",
        )


def decode_table(arguments) -> None:
    import tempfile

    if arguments.kind:  # the child: one file, in a fresh process
        print(json.dumps(measure_decode(arguments.kind)))
        return
    folder = tempfile.mkdtemp()
    print("Decoding one 4000x3000 upload with an EXIF orientation, shrunk to 1024 px\n")
    print("| file | size | peak above the process, bytes per header pixel |\n|---|---|---|")
    for kind in DECODE_KINDS:
        path = save_decode_picture(kind, folder)
        command = [sys.executable, __file__, "--decode", "--kind", path]
        row = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        print(f"| {kind} | {os.path.getsize(path) / 2**20:.1f} MB | {row['bytes per pixel']:.1f} |", flush=True)


def table(rows: list[dict], title: str) -> None:
    print(f"{title}\n")
    print("| output | pixels | base (MB) | peak (MB) | above base (MB) |\n|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['size']} px | {row['pixels']} | {row['base'] / 2**20:.0f} | {row['peak'] / 2**20:.0f} | "
            f"{(row['peak'] - row['base']) / 2**20:.0f} |"
        )
    pixels = np.array([row["pixels"] for row in rows], float)
    above = np.array([row["peak"] - row["base"] for row in rows], float)
    per_pixel, fixed = np.polyfit(pixels, above, 1)
    print(f"\nfit: above base = {fixed / 2**20:.0f} MB + {per_pixel:.0f} B x output pixels\n")


if __name__ == "__main__":
    main()
