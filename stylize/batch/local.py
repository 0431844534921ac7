"""The in-process engine, the default: every work item in turn in this process, with nothing to start."""

from __future__ import annotations

from collections.abc import Generator

from .items import BatchSettings, Plan, Result
from .stylist import Style, Stylist, failed, read_input


def run_local(plan: Plan, style: Style, settings: BatchSettings) -> Generator[Result, None, None]:
    """Each item's result, in the plan's order; TensorFlow and onnxruntime use every core for one item at a time."""
    stylist = Stylist(style, settings, clip=plan.folder.joinpath)
    for item in plan.items:
        try:
            data = read_input(plan.folder, item)
        except (OSError, ValueError) as error:
            yield failed(item, error)
            continue
        yield stylist(item, data)
