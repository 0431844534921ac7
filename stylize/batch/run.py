"""A batch from start to end: its items on an engine, each result written under its name, a video's segments joined."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.files import atomic_path, write_atomically
from ..core.settings import check_choice
from .items import DEFAULTS, PHOTO, BatchSettings, Plan, Result
from .local import run_local
from .stylist import Style

ENGINES = ("local", "ray")


def default_engine() -> str:
    """Ray when RAY_ADDRESS names a cluster, else this process."""
    from .on_ray import ADDRESS_ENV

    return "ray" if os.environ.get(ADDRESS_ENV) else "local"


@dataclass(frozen=True)
class BatchRecord:
    """One work item done: for a progress bar, and a report line when an input is finished."""

    done: int  # items done so far
    total: int  # items in the plan
    result: Result
    written: Path | None = None  # the result written when this item finished an input (a photo, a video's last part)
    error: str = ""  # why an input finished without a result: set once per input, on its last item


def run_batch(
    plan: Plan,
    style: Style,
    settings: BatchSettings = DEFAULTS,
    *,
    engine: str | None = None,
    workers: int | None = None,
    cpus: int = 1,
) -> Iterator[BatchRecord]:
    """Run the plan's items on the engine ("local" or "ray"; None: default_engine()) and write each result in the
    plan's output folder: a photo's PNG as it comes, a video once all its segments are in, joined in order with
    the original audio. workers and cpus (each worker's CPUs) are the Ray engine's; this process uses all cores."""
    engine = engine or default_engine()
    check_choice("engine", engine, ENGINES)
    style.check()
    results: Generator[Result, None, None]
    if engine == "ray":
        from .on_ray import run_ray

        results = run_ray(plan, style, settings, workers, cpus)
    else:
        results = run_local(plan, style, settings)
    plan.out_folder.mkdir(parents=True, exist_ok=True)
    videos = plan.videos()
    parts = Path(tempfile.mkdtemp(prefix="stylize-batch-"))  # the segments, until their video is joined
    try:
        for done, result in enumerate(results, 1):
            written, error = None, result.error
            if result.kind == PHOTO:
                if not error:
                    written = plan.out_folder / result.output
                    write_atomically(written, result.data)
            else:
                written, error = _segment_done(plan, result, videos[result.name], parts)
            yield BatchRecord(done, len(plan.items), result, written, error)
    finally:
        results.close()
        shutil.rmtree(parts, ignore_errors=True)


def _segment_done(plan: Plan, result: Result, segments: list, parts: Path) -> tuple[Path | None, str]:
    """Keep a segment's part (or its error); with the video's last one, join them in order under its name."""
    folder = parts / str(segments[0].index)  # one folder per video, named by its first item
    folder.mkdir(exist_ok=True)
    if result.error:
        (folder / f"{result.index}.error").write_text(result.error)
    else:
        (folder / f"{result.index}.mp4").write_bytes(result.data)
    finished = [folder / f"{item.index}{suffix}" for item in segments for suffix in (".mp4", ".error")]
    if sum(path.exists() for path in finished) < len(segments):
        return None, ""
    errors = [path.read_text() for path in finished if path.suffix == ".error" and path.exists()]
    if errors:
        return None, f"{len(errors)} of {len(segments)} segments failed: {errors[0]}"
    from ..video import join_segments

    target = plan.out_folder / result.output
    try:
        with atomic_path(target, suffix=".mp4") as temporary:
            join_segments([folder / f"{item.index}.mp4" for item in segments], temporary, plan.folder / result.name)
    except ValueError as error:
        return None, str(error)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return target, ""
