"""Atomic writes: the target is replaced whole or not at all, and no temporary file is left behind."""

import os
import stat

import numpy as np
import pytest

from stylize.core.files import atomic_path, write_atomically


def test_atomic_path_replaces_the_target_from_a_temporary_beside_it(tmp_path):
    target = tmp_path / "state.npz"
    target.write_bytes(b"old")
    with atomic_path(target, suffix=".part.npz") as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".state.npz.")
        assert temporary.name.endswith(".part.npz")
        np.savez(temporary, values=np.arange(3))  # adds nothing to a name already ending in .npz
        assert target.read_bytes() == b"old"  # nothing visible before the block ends
    with np.load(target) as saved:
        np.testing.assert_array_equal(saved["values"], np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["state.npz"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target, suffix=".part.keras") as temporary:
            temporary.write_bytes(b"half a mod")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_write_atomically_makes_folders_and_replaces_the_bytes(tmp_path):
    target = tmp_path / "out" / "result.png"
    write_atomically(target, b"first")
    write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["result.png"]


def test_a_failing_write_atomically_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "result.png"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomically(target, "text, not bytes")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]


def test_the_written_file_gets_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_path(tmp_path / "a.bin") as temporary:
            temporary.write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o640  # not mkstemp's 0600
