"""What a clip is (size, rate, length, audio), read by ffmpeg from its header and checked against the limits in one
line each, before any frame is decoded; then one small frame decoded to prove there are frames at all."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .ffmpeg import INPUT_GUARDS, command, executable, run, stderr_line
from .settings import VideoLimits

PROBE_SECONDS = 30.0  # reading a header and one small frame takes milliseconds; more is a hostile file
KINDS = "mp4, mov, webm, mkv, avi, ts, ogg"  # the containers FORMATS lets in, as people name them


@dataclass(frozen=True)
class ClipInfo:
    """A clip as it plays: sides after its rotation, frames per second, frame count estimated from its length."""

    width: int
    height: int
    fps: float
    frames: int
    seconds: float
    has_audio: bool
    audio_codec: str | None = None  # the first audio stream's codec: copied into the mp4 if browsers play it


@dataclass(frozen=True)
class Description:
    """ffmpeg's description of a file's first video and audio streams; None where it says nothing."""

    width: int | None
    height: int | None
    fps: float | None
    seconds: float | None
    audio_codec: str | None


def _number(text: str) -> float:
    return float(text[:-1]) * 1000 if text.endswith("k") else float(text)


def parse_description(text: str) -> Description:
    """The fields of `ffmpeg -i FILE`'s stderr (its only stable way to describe a file without ffprobe)."""
    video = re.search(r"Stream #0:\d+\S*: Video: (.*)", text)
    width = height = fps = None
    if video:
        sides = re.search(r", (\d+)x(\d+)[ ,\[]", video.group(1) + " ")
        if sides:
            width, height = int(sides.group(1)), int(sides.group(2))
        rate = re.search(r"([\d.]+k?) fps", video.group(1)) or re.search(r"([\d.]+k?) tbr", video.group(1))
        fps = _number(rate.group(1)) if rate else None
        rotation = re.search(r"rotation of (-?[\d.]+) degrees", text[video.end() :])
        if rotation and round(float(rotation.group(1))) % 180 == 90 and width and height:
            width, height = height, width  # ffmpeg turns the frames upright when decoding
    duration = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", text)
    seconds = None
    if duration:
        hours, minutes, secs = duration.groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs)
    audio = re.search(r"Stream #0:\d+\S*: Audio: (\w+)", text)
    return Description(width, height, fps, seconds, audio.group(1) if audio else None)


def describe(path: str | os.PathLike, what: str = "the clip") -> Description:
    """ffmpeg's description of the file; ValueError in one line when ffmpeg cannot open it as a video container."""
    # No output named: ffmpeg describes the input at its default log level, and exits.
    result = run([executable(), "-nostdin", "-hide_banner", *INPUT_GUARDS, "-i", str(path)], PROBE_SECONDS)
    text = result.stderr.decode("utf-8", "replace")
    if "Input #0" not in text:
        raise ValueError(
            f"{what} is not a video ffmpeg can read ({KINDS}), or it is damaged or cut short: "
            f"{stderr_line(result.stderr).rsplit(': ', 1)[-1]}"
        )
    return parse_description(text)


def probe(path: str | os.PathLike, limits: VideoLimits = VideoLimits()) -> ClipInfo:
    """The clip's ClipInfo, or ValueError with one line: not a video, corrupt or truncated, no frames, sides, fps,
    length or file size past the limits."""
    what = f"the clip {Path(path).name!r}"
    try:
        size = os.stat(path).st_size
    except OSError as error:
        raise ValueError(f"{what} cannot be read: {error.strerror}") from None
    if size > limits.max_bytes:
        raise ValueError(f"{what} is {size / 1e6:.3g} MB but may be at most {limits.max_bytes / 1e6:.3g} MB")
    if size == 0:
        raise ValueError(f"{what} is empty")
    found = describe(path, what)
    if found.width is None or found.height is None:
        raise ValueError(f"{what} has no video stream (only sound, subtitles or data?)")
    width, height = found.width, found.height
    if max(width, height) > limits.max_side:
        raise ValueError(
            f"{what} is {width}x{height} but its longer side may be at most {limits.max_side} px: scale it down"
        )
    if not found.fps or found.fps <= 0:
        raise ValueError(f"{what} states no frame rate: it is damaged or not a video")
    if found.fps > limits.max_fps:
        raise ValueError(f"{what} has {found.fps:g} frames per second but may have at most {limits.max_fps:g}")
    seconds = found.seconds
    if seconds is not None and seconds > limits.max_seconds:
        raise ValueError(f"{what} lasts {seconds:.1f} s but may last at most {limits.max_seconds:g} s: cut it shorter")
    _check_first_frame(path, what)
    if seconds is None:  # a stream without a stated length: the decoder stops at max_seconds
        seconds = limits.max_seconds
    frames = max(1, round(seconds * found.fps))
    return ClipInfo(width, height, found.fps, frames, seconds, found.audio_codec is not None, found.audio_codec)


def _check_first_frame(path: str | os.PathLike, what: str) -> None:
    """Decode one frame, scaled to 32 px, to prove the stream holds pictures."""
    arguments = command(*INPUT_GUARDS, "-i", path, "-map", "0:v:0", "-frames:v", "1", "-vf", "scale=32:32")
    result = run([*arguments, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], PROBE_SECONDS)
    if len(result.stdout) < 32 * 32 * 3:
        problem = stderr_line(result.stderr) if result.stderr.strip() else "the video stream is empty"
        raise ValueError(f"{what} has no frame that can be decoded (damaged, cut short or empty): {problem}")
