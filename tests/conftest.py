"""Shared fixtures: generated pictures, random networks, a stand-in instant network, the app (nothing downloaded)."""

import contextlib
import functools

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from stylize.gatys.networks import build_network


def _make_picture(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth float RGB picture with some structure: gradients plus stripes, reproducible from the seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.05, 0.4, size=3)
        channels.append(0.5 + 0.4 * np.sin(fx * x + fy * y + 6 * phase))
    return np.clip(np.stack(channels, axis=-1), 0, 1).astype(np.float32)


@pytest.fixture(autouse=True)
def project_paces(monkeypatch):
    """Every test starts at the project machine's tile pace: a run that timed its tiles sets this process's."""
    from stylize.core import paces

    monkeypatch.setattr(paces, "_tile_step", {})


@pytest.fixture(scope="session")
def make_picture():
    """make_picture(height, width, seed): for pictures other than content and style."""
    return _make_picture


@pytest.fixture(scope="session")
def content() -> np.ndarray:
    return _make_picture(48, 64, seed=1)


@pytest.fixture(scope="session")
def style() -> np.ndarray:
    return _make_picture(64, 64, seed=2)


@pytest.fixture(scope="session")
def random_vgg19():
    import keras

    keras.utils.set_random_seed(0)
    return build_network("vgg19", weights=None)


@pytest.fixture(scope="session")
def random_vgg16():
    import keras

    keras.utils.set_random_seed(0)
    return build_network("vgg16-hed", weights=None)


def _seed_controls(steps: int = 6, size: int = 128, **changes) -> list:
    """/stylize's inputs after the two uploads: second style, mask, then the controls in CONTROL_NAMES order
    (gr.State is not part of the API), set to the seed preset's raw formula unless changed."""
    from studio.controls import CONTROL_NAMES

    values = dict(
        preset_name="seed",
        strength=5.0,
        style_from_strength=False,
        style_log=-1.0,
        content_log=3.0,
        tv_log=0.0,
        steps=steps,
        size=size,
        optimizer="adam",
        precision="float32",
        start_size=0,
        coarse_steps=0,
        init="content",
        seed=0,
        style_scale=1.0,
        colors="style",
        layer_emphasis=0.0,
        blend=0.5,
        normalize=False,
        seconds=60.0,
        exact_steps=True,
        scale_steps="",
        tile_steps="",
        tile_detail="",
        content_layer="block5_conv2",
    )
    values.update(changes)
    return [None, None, *[values[name] for name in CONTROL_NAMES]]


@pytest.fixture(scope="session")
def seed_controls():
    return _seed_controls


class StandIn(tf.Module):
    """The hub model's call signature: (content, style) batches in, a list whose [0] is the stylised batch.

    Like the real network it returns sides rounded down to a multiple of 4, and its output depends on the style:
    the content's channels are pulled towards the style's mean colour.
    """

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)] * 2)
    def __call__(self, content, style):
        shape = tf.shape(content)
        cropped = content[:, : shape[1] // 4 * 4, : shape[2] // 4 * 4, :]
        return [0.5 * cropped + 0.5 * tf.reduce_mean(style, axis=[1, 2], keepdims=True)]


@pytest.fixture(scope="session")
def stand_in_folder(tmp_path_factory):
    """StandIn as a SavedModel folder: what a local copy of TensorFlow's instant network looks like."""
    folder = tmp_path_factory.mktemp("instant") / "saved"
    tf.saved_model.save(StandIn(), str(folder))
    return folder


SERVER_GRACE_SECONDS = 60  # a closed test server's time to finish a run it was busy with (a full queue's took 9.7 s)


@contextlib.contextmanager
def _launched(network, shares=None, **launch_options):
    """The app on network, launched in this process with the public queue settings; closed on leaving.

    Every test is one visitor (127.0.0.1) to the gate: unless shares says otherwise, it may upload and start
    sessions as much as a whole module of tests does (tests/test_gate.py launches servers with the real shares).
    """
    import app
    from studio import hosting
    from studio.gate import Shares

    demo = hosting.configure_queue(app.build_app(network))
    shares = shares or Shares(uploads=100_000, upload_bytes=2**40, sessions=100_000)
    options = hosting.launch_options(shares) | launch_options
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    try:
        yield demo, url
    finally:
        server = demo.server
        demo.close()
        # Gradio waits 5 s for its server thread, whose shutdown then deletes every file the app was sent: paths
        # named by their content, the same as the next server's uploads of the same pictures. A server still busy
        # with a run (a full queue's) ended later, deleting another test's upload ("not an upload of this page").
        # And uvicorn waits for ever for a connection a client left open (one CI run hung 300 s in test_gate's
        # teardown, two servers' threads idle in their event loops): after a grace period it stops waiting for them.
        if server is not None:
            server.thread.join(timeout=SERVER_GRACE_SECONDS)
            server.force_exit = True
            server.thread.join(timeout=300)
            assert not server.thread.is_alive(), "the test server did not stop in 300 s"


@pytest.fixture(scope="session")
def launch_app(random_vgg16):
    """with launch_app(**launch_options) as (demo, url): a server of one's own (other settings, other limits)."""
    return functools.partial(_launched, random_vgg16)


@pytest.fixture(scope="module")
def server(launch_app):
    """(demo, url): the app on a random network, launched in this process with the public queue settings."""
    with launch_app() as started:
        yield started


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server[1], verbose=False)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory, content, style):
    """A folder with the content and style pictures as uploads, and a text file named like a picture."""
    folder = tmp_path_factory.mktemp("uploads")
    Image.fromarray((content * 255).astype(np.uint8)).save(folder / "content.png")
    Image.fromarray((style * 255).astype(np.uint8)).save(folder / "style.jpg")
    (folder / "notes.png").write_text("this is not a picture")
    return folder
