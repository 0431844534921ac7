"""A batch's plan: its settings, and its work items (one photo, or one segment of a video) with their results' names."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.settings import SIZE_RANGE, check_range
from ..fast.bundled import STYLE_AMOUNT_RANGE, STYLE_SIZE_RANGE
from ..fast.instant import STYLE_SIZE

PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")  # what core.images decodes
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")
SEGMENT_SECONDS_RANGE = (1.0, 3600.0)
WARMUP_SECONDS_RANGE = (0.0, 10.0)
PHOTO, SEGMENT = "photo", "segment"


@dataclass(frozen=True)
class BatchSettings:
    """How every item of a batch is stylised; the same flags as stylize-instant where they apply."""

    size: int | None = None  # longer side of each result; None: a photo's own, a video's the video engine's default
    strength: float = 1.0  # the style amount, 0 the photo's own style ... 1 the painting's
    style_size: int = STYLE_SIZE  # side the painting is squashed to for its style code
    segment_seconds: float = 10.0  # a video is cut into segments this long, each a work item of its own
    warmup_seconds: float = 1.0  # the frames before a segment, stylised only to warm its temporal consistency
    overwrite: bool = False  # False: a result already in the output folder is kept and its input skipped
    max_video_seconds: float = 4 * 3600.0  # a film, not the app's short clips: a batch's videos may be this long

    def __post_init__(self) -> None:
        if self.size is not None:
            check_range("size", self.size, SIZE_RANGE, integer=True)
        check_range("strength", self.strength, STYLE_AMOUNT_RANGE)
        check_range("style_size", self.style_size, STYLE_SIZE_RANGE, integer=True)
        check_range("segment_seconds", self.segment_seconds, SEGMENT_SECONDS_RANGE)
        check_range("warmup_seconds", self.warmup_seconds, WARMUP_SECONDS_RANGE)
        check_range("max_video_seconds", self.max_video_seconds, SEGMENT_SECONDS_RANGE[:1] + (24 * 3600.0,))

    def video_limits(self):
        """The video engine's bounds for this batch's videos: its defaults, but for their length."""
        from ..video import VideoLimits

        return VideoLimits(max_seconds=self.max_video_seconds)


DEFAULTS = BatchSettings()


@dataclass(frozen=True)
class WorkItem:
    """One unit of work for any engine: plain fields only, so it travels as a Ray Data row."""

    index: int  # its place in the batch: results are reported, and a video's segments joined, in this order
    name: str  # the input's file name in the folder
    output: str  # the result's file name in the output folder
    kind: str  # PHOTO or SEGMENT
    start: int = 0  # a segment's frames [start, stop) are written; the `warmup` frames before them only warm it up
    stop: int = 0
    warmup: int = 0

    def row(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Result:
    """What a work item gave: the result's bytes (a PNG, or the segment's mp4), or a one-line error."""

    index: int
    name: str
    output: str
    kind: str
    data: bytes = b""
    error: str = ""  # empty when it worked


@dataclass(frozen=True)
class Plan:
    """The work items of a folder, and what was left out of it before any work (each with its one-line reason)."""

    folder: Path  # where the inputs are
    out_folder: Path  # where each result is written under its name
    items: list[WorkItem] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (input name, why)
    kept: list[str] = field(default_factory=list)  # results already in the output folder, not redone

    def videos(self) -> dict[str, list[WorkItem]]:
        """Each video's segments, in order, by the video's file name."""
        segments: dict[str, list[WorkItem]] = {}
        for item in self.items:
            if item.kind == SEGMENT:
                segments.setdefault(item.name, []).append(item)
        return segments


def check_folders(folder: str | os.PathLike, out_folder: str | os.PathLike) -> tuple[Path, Path]:
    """The input and output folders, resolved; ValueError when the input isn't a folder or the output would write
    over it (the output may be new, or a folder inside the input: only the input's own files are read)."""
    source, target = Path(folder).resolve(), Path(out_folder).resolve()
    if not source.is_dir():
        raise ValueError(f"{folder} is not a folder: give the folder of photos or videos")
    if target == source:
        raise ValueError(f"the output folder {out_folder} is the input folder: give another one (it may be inside)")
    if target.exists() and not target.is_dir():
        raise ValueError(f"the output {out_folder} is a file: give a folder")
    return source, target


def output_names(names: list[str]) -> dict[str, str]:
    """Each input's result name: photo.jpg -> photo.png, clip.mov -> clip.mp4; when two inputs would share one
    (photo.jpg and photo.png), both keep their whole name instead (photo.jpg.png, photo.png.png)."""
    wanted = {name: Path(name).stem + (".mp4" if _is_video(name) else ".png") for name in names}
    shared = Counter(wanted.values())
    return {name: result if shared[result] == 1 else name + Path(result).suffix for name, result in wanted.items()}


def segments(frames: int, fps: float, settings: BatchSettings) -> list[tuple[int, int, int]]:
    """A video's (start, stop, warmup) frame ranges: segment_seconds each, the last one shorter."""
    length = max(1, round(settings.segment_seconds * fps))
    warmup = round(settings.warmup_seconds * fps)
    return [(start, min(start + length, frames), min(warmup, start)) for start in range(0, frames, length)]


def plan_batch(folder: str | os.PathLike, out_folder: str | os.PathLike, settings: BatchSettings, probe=None) -> Plan:
    """The folder's photos and videos (its own files, by name; not its subfolders) as work items; ValueError for
    folders that can't be used (check_folders).

    probe(path, settings) -> (frames, fps) raises ValueError with one line for a video it can't take; it is asked
    only when the folder holds videos (stylize.video's, bound to settings.video_limits(), by default).
    """
    folder, out_folder = check_folders(folder, out_folder)
    names = sorted(entry.name for entry in folder.iterdir() if entry.is_file() and not entry.name.startswith("."))
    outputs = output_names(names)
    plan = Plan(folder, out_folder)
    items = plan.items
    for name in names:
        output = outputs[name]
        if not (_is_photo(name) or _is_video(name)):
            plan.skipped.append(
                (name, f"not a photo ({', '.join(PHOTO_SUFFIXES)}) or a video ({', '.join(VIDEO_SUFFIXES)})")
            )
        elif (out_folder / output).exists() and not settings.overwrite:
            plan.kept.append(output)
        elif _is_photo(name):
            items.append(WorkItem(len(items), name, output, PHOTO))
        else:
            try:
                frames, fps = (probe or _probe)(folder / name, settings)
            except ValueError as error:
                plan.skipped.append((name, str(error)))
                continue
            for start, stop, warmup in segments(frames, fps, settings):
                items.append(WorkItem(len(items), name, output, SEGMENT, start, stop, warmup))
    return plan


def _probe(path: Path, settings: BatchSettings) -> tuple[int, float]:
    from ..video import probe  # only a folder with videos needs the video engine (and its decoder)

    info = probe(path, settings.video_limits())
    return info.frames, info.fps


def _is_photo(name: str) -> bool:
    return name.lower().endswith(PHOTO_SUFFIXES)


def _is_video(name: str) -> bool:
    return name.lower().endswith(VIDEO_SUFFIXES)
