"""The Ray engine: the same work items on Ray Data, map_batches over an actor pool that loads the networks once per
actor; a local Ray instance, or the cluster RAY_ADDRESS names."""

from __future__ import annotations

import dataclasses
import heapq
import logging
import os
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

from .items import BatchSettings, Plan, Result, WorkItem
from .stylist import Style, Stylist, failed, read_input

ADDRESS_ENV = "RAY_ADDRESS"  # ray://head:10001, auto (a `ray start --head` on this machine), or host:port
INSTALL = "pip install 'stylize[ray]' (or: pip install 'ray[data]>=2.60')"
# Photos travel to the workers as bytes in the dataset's rows (a cluster's nodes can't read this machine's folder),
# so a large folder goes to Ray in chunks of about this much: it never sits in this process's memory whole.
CHUNK_BYTES = 256 * 2**20
ITEM_FIELDS = tuple(field.name for field in dataclasses.fields(WorkItem))
RESULT_FIELDS = tuple(field.name for field in dataclasses.fields(Result))


class RayUnavailable(RuntimeError):
    """Ray is not installed; the message says what to install."""


def ray_module():
    """Ray with its Data library, or RayUnavailable saying how to install it (it is an optional extra)."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise RayUnavailable(f"--engine ray needs Ray: {INSTALL}") from None
    return ray


class RayStylist:
    """map_batches' callable class: one Stylist per actor, made once, its threads from the CPUs Ray gave the actor."""

    def __init__(self, style: Style, settings: BatchSettings, threads: int, clips: dict):
        self.clips = clips  # a video's name -> its bytes in Ray's object store, fetched by the actors that need it
        self.copies = tempfile.TemporaryDirectory(prefix="stylize-clips-")  # removed with the actor
        self.stylist = Stylist(style, settings, clip=self.clip, threads=threads)

    def clip(self, name: str) -> Path:
        """A video's path on this actor's machine: its bytes copied from the object store once."""
        import ray

        path = Path(self.copies.name) / Path(name).name
        if not path.exists():
            path.write_bytes(ray.get(self.clips[name]))
        return path

    def __call__(self, batch: dict) -> dict[str, list]:
        results = []
        for values in zip(*(batch[name] for name in (*ITEM_FIELDS, "data"))):
            item = WorkItem(**{name: _plain(value) for name, value in zip(ITEM_FIELDS, values)})
            results.append(self.stylist(item, bytes(values[-1])))
        return {name: [getattr(result, name) for result in results] for name in RESULT_FIELDS}


def run_ray(
    plan: Plan, style: Style, settings: BatchSettings, workers: int | None = None, cpus: int = 1
) -> Generator[Result, None, None]:
    """Each item's result, in the plan's order, from `workers` actors of `cpus` CPUs each (default: as many actors as
    the cluster's CPUs allow). Starts a local Ray instance unless one is running or RAY_ADDRESS names a cluster, and
    stops only one it started."""
    ray = ray_module()
    started = not ray.is_initialized()
    if started:
        # ray.init reads RAY_ADDRESS itself; with none it starts a local instance, without its dashboard.
        local = {} if os.environ.get(ADDRESS_ENV) else {"include_dashboard": False}
        ray.init(log_to_driver=False, logging_level=logging.ERROR, **local)
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its plan and timings each run: the command says enough
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # results come back by index, as the in-process engine's
        context.enable_progress_bars = False  # the command shows one bar over the whole batch
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus))
        # Each video goes to the object store once (it passes through this process's memory: VideoLimits bounds
        # its size); the actors whose segments need it copy it to their own disk.
        clips = {name: ray.put((plan.folder / name).read_bytes()) for name in plan.videos()}
        for rows, unreadable in _chunks(plan):
            if not rows:
                yield from unreadable
                continue
            dataset = ray.data.from_items(rows).map_batches(
                RayStylist,
                batch_size=1,  # one item per call: a photo or a segment is already seconds of work
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=cpus,
                fn_constructor_kwargs={"style": style, "settings": settings, "threads": cpus, "clips": clips},
                batch_format="numpy",
            )
            done = (Result(**{name: _plain(row[name]) for name in RESULT_FIELDS}) for row in dataset.iter_rows())
            yield from heapq.merge(done, unreadable, key=lambda result: result.index)
    finally:
        if started:
            ray.shutdown()


def _chunks(plan: Plan) -> Iterator[tuple[list[dict], list[Result]]]:
    """The plan's rows (each item with its photo's bytes) in chunks of about CHUNK_BYTES, with the results of
    the photos that could not be read, to report at once."""
    rows: list[dict] = []
    unreadable: list[Result] = []
    size = 0
    for item in plan.items:
        try:
            data = read_input(plan.folder, item)
        except (OSError, ValueError) as error:
            unreadable.append(failed(item, error))
            continue
        rows.append({**item.row(), "data": data})
        size += len(data)
        if size >= CHUNK_BYTES:
            yield rows, unreadable
            rows, unreadable, size = [], [], 0
    yield rows, unreadable


def _plain(value):
    """A row's value as Python's own type (numpy's int64 and bytes_ arrive from the dataset)."""
    return value.item() if hasattr(value, "item") else value
