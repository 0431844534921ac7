"""The app launched in-process and driven with gradio_client, as Gradio tests its own demos."""

import dataclasses
import time

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from studio.controls import CONTROL_NAMES
from studio.status import status_html
from stylize.core.recipe import settings_from_png


@pytest.fixture
def controls(seed_controls):
    return seed_controls  # its defaults, 6 steps at 128 px, are this module's


def test_a_run_streams_pictures_then_a_comparison_and_a_png(client, pictures, controls):
    job = client.submit(
        handle_file(str(pictures / "content.png")),
        handle_file(str(pictures / "style.jpg")),
        *controls(),
        api_name="/stylize",
    )
    job.result()
    updates = job.outputs()  # every streamed (picture, status, comparison, download)
    intermediate = [u for u in updates if "Done:" not in u[1]]
    assert len(intermediate) >= 2, updates
    assert "Step 0 / 6" in intermediate[0][1]
    final_picture, final_status, comparison, download, history = updates[-1]
    assert "Done: 6 steps at 128 px." in final_status and "Step 6 / 6" in final_status
    before, after = comparison
    assert Image.open(before).size == Image.open(after).size == (128, 96)
    assert Image.open(download["value"]).format == "PNG"
    settings, extra = settings_from_png(download["value"])
    assert (settings.steps, settings.size, settings.style_weight) == (6, 128, pytest.approx(0.1))
    assert extra["network"].startswith("VGG16")
    assert history == [download["value"]] or len(history) == 1


def test_a_non_image_upload_gets_a_clear_message(client, pictures, controls):
    with pytest.raises(Exception, match="not an image"):
        client.predict(
            handle_file(str(pictures / "notes.png")),
            handle_file(str(pictures / "style.jpg")),
            *controls(),
            api_name="/stylize",
        )


def test_a_bad_setting_gets_a_clear_message_and_the_app_keeps_serving(client, pictures, controls):
    # Checked as the request joins the queue, by the gate in front of Gradio (studio/gate.py): refused with a
    # 400 whose body is the one-line message (gradio_client shows only the status).
    import httpx

    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/stylize"]
    assert len(info["parameters"]) == 2 + len(CONTROL_NAMES) + 2  # content, style, 2nd, mask, controls
    fn_index = next(i for i, d in enumerate(client.config["dependencies"]) if d.get("api_name") == "stylize")
    data = [None, None, None, None, [], *controls(size=20)[2:]]
    reply = httpx.post(
        client.src.rstrip("/") + "/gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": "bad-setting"},
    )
    assert reply.status_code == 400 and "size (longer side, px) is 20 but must be from 128" in reply.json()["detail"]
    result = client.predict(
        handle_file(str(pictures / "content.png")),
        handle_file(str(pictures / "style.jpg")),
        *controls(steps=2),
        api_name="/stylize",
    )
    assert "Done:" in result[1]


def test_missing_upload_is_explained(client, pictures, controls):
    with pytest.raises(Exception, match="Upload a content photo"):
        client.predict(None, handle_file(str(pictures / "style.jpg")), *controls(), api_name="/stylize")


def test_status_line_reads_like_a_person_wrote_it():
    from stylize.gatys.loop import Progress

    record = Progress(
        step=50,
        total=200,
        image=np.zeros((2, 2, 3), np.uint8),
        losses={"total": 1234.5},
        elapsed=50.0,
        fraction=0.25,
        eta=150.0,
    )
    html = status_html(record)
    assert "Step 50 / 200" in html and "loss 1234" in html and "1.00 s/step" in html
    assert "about 2 min 30 s left" in html and 'value="25"' in html
    assert "about 45 s left" in status_html(dataclasses.replace(record, eta=45.0))


def test_a_result_png_restores_its_settings(client, pictures, controls):
    result = client.predict(
        handle_file(str(pictures / "content.png")),
        handle_file(str(pictures / "style.jpg")),
        *controls(steps=2, size=160, colors="luminance", layer_emphasis=0.5),
        api_name="/stylize",
    )
    restored = client.predict(handle_file(result[3]["value"]), api_name="/restore")
    picture, status, *values = restored
    assert "Restored the settings" in status
    named = dict(zip(CONTROL_NAMES, values))
    assert (named["steps"], named["size"], named["colors"], named["layer_emphasis"]) == (2, 160, "luminance", 0.5)
    assert named["style_log"] == pytest.approx(-1.0)


def test_a_timed_run_keeps_its_time_and_its_png_restores_the_steps_it_took(client, pictures, controls):
    job = client.submit(
        handle_file(str(pictures / "content.png")),
        handle_file(str(pictures / "style.jpg")),
        *controls(
            preset_name="balanced",
            exact_steps=False,
            seconds=5.0,
            size=128,
            start_size=64,
            coarse_steps=3,
            optimizer="lbfgs",
        ),
        api_name="/stylize",
    )
    started = time.monotonic()
    result = job.result()
    assert time.monotonic() - started < 5.0 + 5.0  # the budget, plus the queue and the finished picture's files
    statuses = [update[1] for update in job.outputs()]
    assert any("of about" in status and "elapsed of 5 s" in status for status in statuses[1:-1]), statuses
    settings = settings_from_png(result[3]["value"])[0]
    assert settings.seconds is None and len(settings.scale_steps) == 3 and settings.scale_steps[-1] > 3  # 64-128 px
    assert f"Done: {settings.steps_text()}." in result[1]
    named = dict(zip(CONTROL_NAMES, client.predict(handle_file(result[3]["value"]), api_name="/restore")[2:]))
    assert named["exact_steps"] is True and named["steps"] == settings.scale_steps[-1]
    assert named["scale_steps"] == ", ".join(map(str, settings.scale_steps))


def test_bad_steps_per_scale_are_explained(client, pictures, controls):
    with pytest.raises(Exception, match="steps per scale are 'eight' but must be whole numbers"):
        client.predict(
            handle_file(str(pictures / "content.png")),
            handle_file(str(pictures / "style.jpg")),
            *controls(scale_steps="eight"),
            api_name="/stylize",
        )
    with pytest.raises(Exception, match="scale_steps has 2 counts but these settings have 1 scales"):
        client.predict(
            handle_file(str(pictures / "content.png")),
            handle_file(str(pictures / "style.jpg")),
            *controls(scale_steps="4, 4"),
            api_name="/stylize",
        )


def test_a_png_without_settings_is_explained(client, pictures):
    with pytest.raises(Exception, match="not made by the studio"):
        client.predict(handle_file(str(pictures / "content.png")), api_name="/restore")


def test_moving_a_weight_slider_mid_run_steers_it(client, pictures, controls):
    job = client.submit(
        handle_file(str(pictures / "content.png")),
        handle_file(str(pictures / "style.jpg")),
        *controls(steps=40, size=128),
        api_name="/stylize",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("Step" in str(o[1]) for o in job.outputs()):
        time.sleep(0.1)
    client.predict(1.0, 3.0, 0.0, api_name="/steer")
    final_status = job.result()[1]
    assert "Weights changed at step" in final_status and "style 10" in final_status


def test_moving_strength_mid_run_steers_it_through_the_style_weight(client, pictures, controls):
    job = client.submit(
        handle_file(str(pictures / "content.png")),
        handle_file(str(pictures / "style.jpg")),
        *controls(
            steps=40,
            size=128,
            preset_name="balanced",
            normalize=True,
            style_from_strength=True,
            content_log=0.0,
            tv_log=-1.0,
            optimizer="adam",
            start_size=0,
        ),
        api_name="/stylize",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("Step" in str(o[1]) for o in job.outputs()):
        time.sleep(0.1)
    # Strength 7.5 is ten times the middle's normalised style weight, 10: resolved on the server, nothing written back
    assert client.predict(7.5, "balanced", True, True, 0.0, 0.0, -1.0, api_name="/strength") in (None, ())
    final_status = job.result()[1]
    assert "Weights changed at step" in final_status and "style 100" in final_status


def test_strength_alone_sets_the_style_weight_on_the_server(client, pictures, random_vgg16, monkeypatch):
    # Every control at the page's default but Strength, the style weight left to it (empty), as an API client that
    # sends only Strength would; only the size and step count shrink, to save CPU.
    from studio.controls import controls_from_settings
    from studio.tabs import optimize
    from stylize.core.settings import DEFAULT_PRESET, preset
    from stylize.fast import instant

    monkeypatch.setenv(instant.MODEL_ENV, instant.BUNDLED)  # the default start, the instant picture, offline
    defaults = controls_from_settings(preset(DEFAULT_PRESET), random_vgg16)
    assert defaults["style_from_strength"] is True
    records, run = {}, optimize.stylize_pictures

    def recording(*args, **kwargs):  # the Progress records the server streams from
        for record in run(*args, **kwargs):
            records.setdefault(record.settings.strength, []).append(record)
            yield record

    monkeypatch.setattr(optimize, "stylize_pictures", recording)
    for strength in (0.0, 10.0):
        values = defaults | {"strength": strength, "size": 128, "steps": 2, "start_size": 0}
        result = client.predict(
            handle_file(str(pictures / "content.png")),
            handle_file(str(pictures / "style.jpg")),
            None,
            None,
            *[values[name] for name in CONTROL_NAMES],
            api_name="/stylize",
        )
        assert "Done:" in result[1]
        assert settings_from_png(result[3]["value"])[0].style_weight is None  # the recipe keeps it Strength's
    weak, strong = records[0.0][-1], records[10.0][-1]
    assert strong.weights.style / weak.weights.style == pytest.approx(10.0 ** (10 / 2.5), rel=1e-9)
    assert (strong.weights.content, strong.weights.tv) == (weak.weights.content, weak.weights.tv)
