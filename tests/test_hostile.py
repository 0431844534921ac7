"""Hostile and careless inputs through the command line and the app's API: each works or gets one line."""

import base64
import functools
import io
import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest
from gradio.data_classes import FileData
from gradio_client import handle_file
from PIL import Image

import app
from studio import components, trained, uploads
from studio.controls import CONTROL_NAMES
from studio.tabs import webcam
from stylize.cli import transfer as cli
from stylize.core import images
from stylize.gatys import networks

import hostile

ROOT = Path(__file__).parent.parent
NAMES = list(hostile.EXPECTED)


@pytest.fixture(scope="module")
def files(tmp_path_factory, make_picture):
    folder = tmp_path_factory.mktemp("hostile")
    paths = hostile.make_all(folder, make_picture)
    Image.fromarray(hostile.photo(make_picture, 64, 64, seed=2)).save(folder / "painting.png")
    return {**paths, "painting.png": folder / "painting.png"}


@pytest.fixture(scope="module")
def cli_network(random_vgg16):
    """The CLI in-process with the random stand-in network: what is tested is input handling, not painting."""
    patch = pytest.MonkeyPatch()
    patch.setattr(networks, "load_network", lambda *args, **kwargs: random_vgg16)
    yield
    patch.undo()


@pytest.mark.parametrize("name", NAMES)
def test_cli_works_or_says_one_line(name, files, tmp_path, cli_network, capsys):
    status = cli.main(
        [
            str(files[name]),
            str(files["painting.png"]),
            "-o",
            str(tmp_path / "out.png"),
            "--quiet",
            "--size",
            "64",
            "--steps",
            "1",
            "--preset",
            "seed",
        ]
    )
    error = capsys.readouterr().err.strip().splitlines()
    expected = hostile.EXPECTED[name]
    if expected is None:
        assert status == 0 and (tmp_path / "out.png").exists(), error
    else:
        assert status == 2 and expected in error[-1] and error[-1].startswith("error: "), error
        assert "Traceback" not in "\n".join(error) and not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("name", ["header-40000x40000.png", "truncated.jpg", "drawing.eps"])
def test_cli_process_prints_exactly_one_line(name, files, tmp_path):
    """A real process: TensorFlow's start-up lines (oneDNN, CUDA, absl) are silenced, only our line is left."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stylize",
            str(files[name]),
            str(files["painting.png"]),
            "-o",
            str(tmp_path / "out.png"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert hostile.EXPECTED[name] in done.stderr


def test_a_hostile_recipe_on_the_command_line_reads_no_path(files, tmp_path, cli_network, capsys, monkeypatch):
    asked = []
    monkeypatch.setattr(networks, "load_network", lambda name, path=None: asked.append(path) or cli_network)
    arguments = cli.parse_arguments(["a.png", "b.png", "-o", "c.png", "--recipe", str(files["hostile-recipe.png"])])
    settings = cli.settings_from_arguments(arguments)
    assert settings.weights_path is None  # "/etc/passwd" in the PNG was ignored
    assert (settings.steps, settings.coarse_steps) == (5, 3) and isinstance(settings.steps, int)
    for name, message in [("nested-recipe.png", "nested too deeply"), ("blend-recipe.png", "must be a list")]:
        status = cli.main(
            [
                str(files["exif-rotated.jpg"]),
                str(files["painting.png"]),
                "-o",
                str(tmp_path / "x.png"),
                "--recipe",
                str(files[name]),
            ]
        )
        assert status == 2 and message in capsys.readouterr().err


@pytest.fixture
def run_controls(seed_controls):
    return functools.partial(seed_controls, steps=1)


@pytest.mark.parametrize("name", NAMES)
def test_api_stylize_works_or_says_one_line(name, files, client, run_controls):
    def call():
        return client.predict(
            handle_file(str(files[name])), handle_file(str(files["painting.png"])), *run_controls(), api_name="/stylize"
        )

    expected = hostile.EXPECTED[name]
    if expected is None:
        assert "Done:" in call()[1]
    else:
        assert expected in hostile.one_line_error(call)


@pytest.mark.parametrize("name", NAMES)
def test_api_restore_works_or_says_one_line(name, files, client):
    def call():
        return client.predict(handle_file(str(files[name])), api_name="/restore")

    if name == "hostile-recipe.png":
        picture, status, *values = call()
        assert "<img" not in status and "&lt;img src=x onerror=" in status  # shown as text, never run
        assert "start size 2000 → 1024" in status and "style log 9 → 5" in status  # its 4096 px fits: a poster
        named = dict(zip(CONTROL_NAMES, values))
        assert (named["size"], named["start_size"], named["steps"], named["style_log"]) == (4096, 1024, 5, 5)
    else:
        hostile.one_line_error(call)  # none of the others is a studio result


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory):
    return hostile.make_clips(tmp_path_factory.mktemp("hostile-clips"))


@pytest.mark.parametrize("name", list(hostile.EXPECTED_CLIPS))
def test_api_video_works_or_says_one_line(name, clip_files, client):
    def call():
        return client.predict(
            handle_file(str(clip_files[name])), webcam.BUILTIN, None, "0", 1.0, 0.5, 128, api_name="/video"
        )

    expected = hostile.EXPECTED_CLIPS[name]
    if expected is None:
        assert "Done:" in call()[1]
    else:
        assert expected in hostile.one_line_error(call)


def test_the_server_keeps_serving_after_all_that(files, client, run_controls):
    result = client.predict(
        handle_file(str(files["exif-rotated.jpg"])),
        handle_file(str(files["painting.png"])),
        *run_controls(steps=2),
        api_name="/stylize",
    )
    assert "Done:" in result[1] and Image.open(result[3]["value"]).size == (64, 128)  # the EXIF rotation applied


def test_steering_refuses_non_finite_weights(client):
    import httpx  # gradio_client can't send NaN (strict JSON); a raw request can, as Python's json parses it

    fn_index = next(i for i, d in enumerate(client.config["dependencies"]) if d.get("api_name") == "steer")
    for route in ("/gradio_api/run/steer", "/gradio_api/queue/join"):  # the first skips the queue: closed
        reply = httpx.post(
            client.src.rstrip("/") + route,
            headers={"content-type": "application/json"},
            content=f'{{"data": [NaN, 3.0, 0.0], "fn_index": {fn_index}, "session_hash": "nan-steer"}}',
        )
        assert reply.status_code == (404 if "/run/" in route else 400), reply.text
    assert "NaN but every number must be finite" in reply.json()["detail"]
    assert client.predict(1.0, 3.0, 0.0, api_name="/steer") in (None, ())  # finite values are taken


def test_api_lists_named_endpoints_only(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/stylize", "/restore", "/instant", "/steer", "/strength", "/webcam", "/video"} <= set(endpoints)
    assert not [name for name in endpoints if name.startswith(("/lambda", "/steer_", "/stop", "/preset"))]


def test_webcam_frames_and_mask_layers_are_checked_before_decoding(files, monkeypatch, tmp_path):
    monkeypatch.setattr(uploads, "allowed_roots", lambda: (files["cmyk.jpg"].parent,))  # as if uploaded
    frame = components.Frame(sources=["webcam"], streaming=True)
    with pytest.raises(gr.Error, match="webcam frame is 40000x40000 .* but must be at most 2 megapixels"):
        frame.preprocess(FileData(path=str(files["header-40000x40000.png"])))
    (files["cmyk.jpg"].parent / "frame-3mp.png").write_bytes(hostile.png_header_only(2000, 1500))
    with pytest.raises(gr.Error, match="webcam frame is 2000x1500 .* but must be at most 2 megapixels"):
        frame.preprocess(FileData(path=str(files["cmyk.jpg"].parent / "frame-3mp.png")))
    assert frame.preprocess(FileData(path=str(files["cmyk.jpg"]))) == str(files["cmyk.jpg"])  # still undecoded
    editor = components.MaskEditor(type="numpy", image_mode="RGBA")
    layer = FileData(path=str(files["sixteen-bit.png"]))
    too_many = editor.data_model(background=None, layers=[layer] * (components.MAX_MASK_LAYERS + 1), composite=None)
    with pytest.raises(gr.Error, match=f"at most {components.MAX_MASK_LAYERS}"):
        editor.preprocess(too_many)
    bomb = editor.data_model(background=None, layers=[FileData(path=str(files["header-144mp.png"]))], composite=None)
    with pytest.raises(gr.Error, match="mask layer 0 is 12000x12000 .* but must be at most 50 megapixels"):
        editor.preprocess(bomb)
    assert editor.preprocess(editor.data_model(background=None, layers=[layer], composite=None))["layers"] == [
        str(files["sixteen-bit.png"])
    ]  # header read, pixels not


def test_checks_before_a_slot_read_headers_without_pillow(files, monkeypatch):
    monkeypatch.setattr(uploads, "allowed_roots", lambda: (files["cmyk.jpg"].parent,))  # as if uploaded
    frame = components.Frame(sources=["webcam"], streaming=True)
    editor = components.MaskEditor(type="numpy", image_mode="RGBA")
    layers = [FileData(path=str(files["sixteen-bit.png"]))] * components.MAX_MASK_LAYERS

    def refused(*args, **kwargs):
        raise AssertionError("Pillow was asked to open an upload before its slot")

    monkeypatch.setattr(Image, "open", refused)  # its header parsing is quadratic for some formats
    assert frame.preprocess(FileData(path=str(files["cmyk.jpg"]))) == str(files["cmyk.jpg"])
    value = editor.preprocess(editor.data_model(background=None, layers=layers, composite=None))
    assert value["layers"] == [str(files["sixteen-bit.png"])] * components.MAX_MASK_LAYERS


def test_a_data_url_is_refused_by_its_length_before_decoding(monkeypatch):
    upload = components.Upload(type="filepath")
    small = base64.b64encode(hostile.encode(Image.new("RGB", (20, 20)), "PNG")).decode()
    decoded = upload.preprocess(upload.data_model(url="data:image/png;base64," + small))
    assert Image.open(io.BytesIO(decoded)).size == (20, 20)
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 1000)
    with pytest.raises(gr.Error, match="must be at most 0 MB"):
        upload.preprocess(upload.data_model(url="data:image/png;base64," + "A" * 4000))


def test_the_page_never_shows_the_servers_paths(random_vgg16):
    import dataclasses
    import json

    fallback = dataclasses.replace(
        random_vgg16,
        note="ImageNet VGG19 weights are not cached: put the file at "
        "/srv/secret/.keras/models/vgg19.h5. Using the offline VGG16 network instead.",
        source=networks.FALLBACK_SOURCE,
    )  # as networks.pretrained_network falls back
    page = json.dumps(app.build_app(fallback).config, default=str)
    assert "/srv/secret" not in page and "offline VGG16 network is used" in page
    assert str(trained.MODELS_DIR) not in page
