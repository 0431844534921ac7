"""Batches: a folder of photos or videos stylised item by item, in this process or on Ray Data (local or a cluster)."""

from .items import BatchSettings, Plan, Result, WorkItem, plan_batch
from .on_ray import RayUnavailable
from .run import ENGINES, BatchRecord, default_engine, run_batch
from .stylist import Style

__all__ = [
    "BatchSettings",
    "BatchRecord",
    "ENGINES",
    "Plan",
    "RayUnavailable",
    "Result",
    "Style",
    "WorkItem",
    "default_engine",
    "plan_batch",
    "run_batch",
]
