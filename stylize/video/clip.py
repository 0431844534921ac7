"""A whole clip stylised as a stream: decode a frame, stylise it, fuse it with the past, encode it; audio kept."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core import images
from ..core.files import atomic_path
from ..core.settings import check_range
from . import ffmpeg
from .fusion import Fuser
from .probe import ClipInfo, describe, probe
from .settings import DEFAULT_CONSISTENCY, DEFAULT_FUSION, VIDEO_SIZE_RANGE, Fusion, VideoLimits
from .stylizers import FrameStylizer, StylizerFactory

TEMPORARY_PREFIX = "stylize-video-"


@dataclass(frozen=True)
class VideoProgress:
    """One frame written (or, with path set, the finished file)."""

    frame: int  # frames written so far
    total: int  # frames the clip has (estimated from its header)
    image: np.ndarray  # uint8 HxWx3: the latest stylised frame
    elapsed: float  # seconds since the call
    fps: float  # frames per second so far, end to end
    seconds_left: float
    cut: bool  # this frame started a new shot
    path: str | None = None  # on the last record only: the finished, playable mp4


def fused_frames(
    decoded: Iterable[np.ndarray], frames: StylizerFactory, fuser: Fuser
) -> Iterator[tuple[np.ndarray, bool]]:
    """Each uint8 frame stylised by its shot's stylizer and fused with the past: (uint8 output, whether it began a
    shot). A cut resets the fusion and asks the factory for the new shot's stylizer."""
    stylizer: FrameStylizer | None = None
    for frame in decoded:
        cut = fuser.is_cut(frame)
        if stylizer is None or cut:
            stylizer = frames(frame.astype(np.float32) / 255.0)
            fuser.reset()
        yield images.to_uint8(fuser.stylize(frame, stylizer)), cut


def output_shape(info: ClipInfo, size: int) -> tuple[int, int]:
    """(height, width) of the output: longer side `size` (never above the clip's own: upscaling only costs time),
    both sides even, as yuv420p needs."""
    check_range("size", size, VIDEO_SIZE_RANGE, integer=True)
    height, width = images.scaled_shape(info.height, info.width, min(int(size), max(info.width, info.height)))
    return max(2, height - height % 2), max(2, width - width % 2)


def frame_rate(fps: float) -> str:
    """ffmpeg's rate as a fraction: 30000/1001 stays exact where its decimal would drift from the audio."""
    rate = Fraction(fps).limit_denominator(1001)
    return f"{rate.numerator}/{rate.denominator}"


def stylize_clip(
    clip: str | os.PathLike,
    out: str | os.PathLike,
    frames: StylizerFactory,
    *,
    size: int = 512,
    consistency: float = DEFAULT_CONSISTENCY,
    limits: VideoLimits = VideoLimits(),
    start: int = 0,
    stop: int | None = None,
    warmup: int = 0,
    fusion: Fusion = DEFAULT_FUSION,
) -> Generator[VideoProgress, None, None]:
    """Stylise a clip into an H.264 mp4 at `out`, one VideoProgress per frame written, then one with its path.

    Frames are decoded as a stream (never the whole clip in memory), scaled inside ffmpeg to longer side `size`,
    stylised with the shot's stylizer (frames(first frame of the shot)), fused with the flow-warped previous output
    (a built-in style's features too, inside its network; consistency 0: plain per-frame), encoded to yuv420p
    with even sides; the clip's audio is cut to the frames written. Closing the generator early still leaves a
    playable `out` of the frames done (none done: no file).
    start/stop cut a segment: frames [start - warmup, start) are stylised and fused only to warm the consistency
    state, then not written. fusion sets the rest of the method (bench/video.py compares them).
    """
    check_range("consistency", consistency, (0.0, 1.0))
    for name, value in (("start", start), ("warmup", warmup)):
        if value < 0 or int(value) != value:
            raise ValueError(f"{name} is {value} but must be a whole number of frames, 0 or more")
    if stop is not None and stop <= start:
        raise ValueError(f"stop is {stop} but must be after start ({start})")
    started = time.perf_counter()
    info = probe(clip, limits)
    shape = output_shape(info, size)
    first = max(0, start - warmup)
    total = max(0, (info.frames if stop is None else min(stop, info.frames)) - start)
    folder = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX))
    reader = writer = None
    try:
        reader = ffmpeg.FrameReader(_decoder(clip, info, shape, first, stop, limits), shape, folder / "decoder.log")
        writer = ffmpeg.FrameWriter(folder / "video.mp4", shape, frame_rate(info.fps), folder / "encoder.log")
        image = np.zeros((*shape, 3), np.uint8)
        fused = fused_frames(reader, frames, Fuser(replace(fusion, consistency=consistency)))
        for index, (image, cut) in enumerate(fused, start=first):
            if index < start:
                continue
            writer.write(image)
            elapsed = time.perf_counter() - started
            fps = writer.frames / elapsed
            left = max(0, total - writer.frames) / fps
            yield VideoProgress(writer.frames, max(total, writer.frames), image, elapsed, fps, left, cut and index > 0)
        if writer.frames == 0:
            raise ValueError(f"the clip {Path(clip).name!r} gave no frames to write: {reader.complaint()}")
        written = writer.frames
        _finish(writer, out, clip, info, start)
        writer = None
        elapsed = time.perf_counter() - started
        yield VideoProgress(written, written, image, elapsed, written / elapsed, 0.0, False, str(out))
    finally:
        if reader is not None:
            reader.close()
        if writer is not None:  # closed early or failed: keep what is done
            _finish(writer, out, clip, info, start)
        shutil.rmtree(folder, ignore_errors=True)


def _decoder(
    clip: str | os.PathLike, info: ClipInfo, shape: tuple[int, int], first: int, stop: int | None, limits: VideoLimits
) -> list[str]:
    """ffmpeg's argv that streams frames [first, stop) as rgb24 at `shape`: a constant rate (the fps filter evens a
    variable one out, so frames stay in step with the audio), scaled inside ffmpeg (small frames cross the pipe)."""
    height, width = shape
    seek = ("-ss", f"{first / info.fps:.6f}") if first else ()
    count = ("-frames:v", str(stop - first)) if stop is not None else ()
    return ffmpeg.command(
        *ffmpeg.INPUT_GUARDS,
        *seek,
        *("-i", clip, "-map", "0:v:0", "-an", "-sn", "-dn", "-t", f"{limits.max_seconds:g}"),
        *("-vf", f"fps={frame_rate(info.fps)},scale={width}:{height}:flags=area", *count),
        *("-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"),
    )


def _finish(writer: ffmpeg.FrameWriter, out: str | os.PathLike, clip, info: ClipInfo, start: int) -> None:
    """Close the encoder and, if it wrote frames, mux the clip's audio for their length into `out`."""
    frames = writer.frames
    whole = writer.close()
    if frames == 0:
        return
    if not whole:
        raise ValueError("the encoder failed: the video could not be written")
    audio = (clip, info.audio_codec or "") if info.has_audio else None
    with atomic_path(out, ".mp4") as temporary:
        ffmpeg.mux(writer.path, temporary, audio, start / info.fps, frames / info.fps)


def join_segments(
    parts: list[str | os.PathLike], out: str | os.PathLike, audio_from: str | os.PathLike | None = None
) -> None:
    """Join mp4 segments this module wrote (same size and rate) into `out`, with audio_from's audio, if any, from
    its start for the joined length: stylize-batch cuts a long clip into segments and joins them back."""
    if not parts:
        raise ValueError("no segments to join")
    folder = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX))
    try:
        # Video streams only: the concat demuxer starts each part where the previous one's longest stream ends,
        # and AAC's padding makes a part's audio a few ms longer than its frames, a gap at every join.
        videos = []
        for index, part in enumerate(parts):
            videos.append(folder / f"video{index}.mp4")
            result = ffmpeg.run(ffmpeg.command("-i", part, "-map", "0:v:0", "-c", "copy", "-f", "mp4", videos[-1]))
            if result.returncode != 0:
                raise ValueError(f"could not read segment {index}: {ffmpeg.stderr_line(result.stderr)}")
        listing = folder / "parts.txt"
        quoted = [str(video).replace("'", "'\\''") for video in videos]
        listing.write_text("".join(f"file '{name}'\n" for name in quoted))
        joined = folder / "joined.mp4"
        result = ffmpeg.run(ffmpeg.command("-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", "-y", joined))
        if result.returncode != 0:
            raise ValueError(f"could not join the segments: {ffmpeg.stderr_line(result.stderr)}")
        seconds = describe(joined).seconds or 0.0
        audio = None
        if audio_from is not None:
            codec = describe(audio_from).audio_codec
            audio = (audio_from, codec) if codec else None
        with atomic_path(out, ".mp4") as temporary:
            ffmpeg.mux(joined, temporary, audio, 0.0, seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
