"""The shared cache: least recently used entries go first, hits make nothing, one key is made once."""

import threading
import time

import numpy as np
import pytest

from stylize.core.cache import BoundedCache, picture_key


def test_the_least_recently_used_entry_goes_first():
    cache = BoundedCache(2)
    cache.get_or_make("a", lambda: 1)
    cache.get_or_make("b", lambda: 2)
    cache.get_or_make("a", lambda: pytest.fail("a is kept"))  # a is now the most recently used
    cache.get_or_make("c", lambda: 3)
    assert "a" in cache and "c" in cache and "b" not in cache
    assert len(cache) == 2


def test_a_hit_does_not_make_and_a_failed_make_keeps_nothing():
    cache = BoundedCache()
    made = []
    assert cache.get_or_make("k", lambda: made.append(1) or "value") == "value"
    assert cache.get_or_make("k", lambda: made.append(2) or "other") == "value"
    assert made == [1]

    def broken():
        raise OSError("unreadable")

    with pytest.raises(OSError, match="unreadable"):
        cache.get_or_make("bad", broken)
    assert "bad" not in cache
    assert cache.get_or_make("bad", lambda: "fixed") == "fixed"


def test_no_limit_keeps_everything():
    cache = BoundedCache(None)
    for key in range(100):
        cache.get_or_make(key, lambda: key)
    assert len(cache) == 100 and 0 in cache


def test_the_same_key_from_two_threads_is_made_once():
    cache = BoundedCache(4)
    calls = []
    started = threading.Barrier(2)

    def slow():
        calls.append(1)
        time.sleep(0.2)  # long enough for the other thread to ask meanwhile
        return object()

    results = []

    def ask():
        started.wait()
        results.append(cache.get_or_make("network", slow))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results[0] is results[1]


def test_discard_if_forgets_only_the_matching_keys():
    cache = BoundedCache()
    for key in [("a", 1), ("a", 2), ("b", 1)]:
        cache.get_or_make(key, lambda: key)
    cache.discard_if(lambda key: key[0] == "a" and key != ("a", 2))
    assert ("a", 1) not in cache and ("a", 2) in cache and ("b", 1) in cache


def test_max_entries_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        BoundedCache(0)


def test_picture_key_follows_pixels_shape_and_dtype():
    picture = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    assert picture_key(picture) == picture_key(picture.copy())
    assert picture_key(picture[:, ::-1]) == picture_key(np.ascontiguousarray(picture[:, ::-1]))  # views too
    changed = picture.copy()
    changed[1, 2, 0] += 1
    assert picture_key(changed) != picture_key(picture)
    assert picture_key(picture.reshape(4, 2, 3)) != picture_key(picture)  # same bytes, other shape
    assert picture_key(picture.view(np.int32)) != picture_key(picture)  # same bytes, other dtype
    hash(picture_key(picture))  # usable as a dict key
