"""Caches of loaded networks and computed pictures: one thread-safe least-recently-used map serves them all."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

Value = TypeVar("Value")


class BoundedCache(Generic[Value]):
    """A thread-safe map of values made on first use, keeping the max_entries most recently used (None: all).

    make() runs under the cache's own lock, so two threads asking for the same key make it once: loading a
    network twice would double the memory, and loading touches process-wide state (stderr, devices). Another
    key waits meanwhile, which suits these caches (a load happens once; a style code takes a fraction of a
    second). make must not use the same cache: the lock is not re-entrant.
    """

    def __init__(self, max_entries: int | None = None):
        if max_entries is not None and max_entries < 1:
            raise ValueError(f"max_entries is {max_entries} but must be at least 1 (or None: no limit)")
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The value kept for key, else make()'s, kept (an exception keeps nothing and reaches the caller)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            value = make()
            self._entries[key] = value
            if self.max_entries is not None and len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)  # the least recently used
            return value

    def discard_if(self, stale: Callable[[Hashable], bool]) -> None:
        """Forget every entry whose key stale() is true for (a file that has changed since it was loaded)."""
        with self._lock:
            for key in [key for key in self._entries if stale(key)]:
                del self._entries[key]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def picture_key(array: np.ndarray) -> tuple:
    """A cache key for a picture's pixels: equal for equal arrays, different when a pixel, the shape or dtype is."""
    array = np.asarray(array)
    return array.shape, array.dtype.str, hashlib.sha1(np.ascontiguousarray(array).data).hexdigest()
