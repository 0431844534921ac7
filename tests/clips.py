"""Small generated clips for the video tests: a gradient moving right, encoded H.264 by imageio-ffmpeg's ffmpeg."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np


def make_clip(path: Path, frames: int, fps: int = 12, width: int = 96, height: int = 64) -> Path:
    """A clip of frames frames whose pattern moves right by 2 px a frame (known motion), at fps."""
    y, x = np.mgrid[0:height, 0:width]
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, macro_block_size=2, ffmpeg_log_level="error"
    )
    writer.send(None)  # the generator starts ffmpeg on its first send
    for index in range(frames):
        shifted = x - 2 * index
        picture = np.stack([128 + 100 * np.sin(shifted / 7), 128 + 100 * np.cos(y / 5), 64 + 0 * x], axis=-1)
        writer.send(np.ascontiguousarray(picture.astype(np.uint8)))
    writer.close()
    return path
