"""Writing files so that readers never see half of one: write a temporary file beside it, then rename it over."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".part") -> Iterator[Path]:
    """A temporary path beside path to write in the block: renamed over path at its end, removed if it raises.

    suffix ends the temporary name, for writers that insist on their own (model.save wants ".keras", np.savez
    adds ".npz" to any other name). The file reaches the disk before the rename and gets the user's usual mode.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        temporary.chmod(0o666 & ~_umask())  # mkstemp makes 0600; a saved file gets the user's usual mode
        yield temporary
        with open(temporary, "rb+") as written:  # after a crash the new name must not point at missing data
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write data to a temporary file beside path, then rename: readers never see a half-written file."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def _umask() -> int:
    """The process's umask, read without changing it (os.umask sets it, a race with other threads)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0o022)
        os.umask(mask)
        return mask
