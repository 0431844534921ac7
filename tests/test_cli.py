"""The command line end to end on small pictures, in a subprocess as a user would run it."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylize.cli.transfer import parse_arguments, settings_from_arguments
from stylize.core.recipe import settings_from_png

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def files(tmp_path_factory, make_picture):
    folder = tmp_path_factory.mktemp("cli")
    Image.fromarray((make_picture(60, 80, 1) * 255).astype(np.uint8)).save(folder / "photo.png")
    Image.fromarray((make_picture(70, 70, 2) * 255).astype(np.uint8)).save(folder / "painting.jpg")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    return folder


def run_cli(*arguments):
    return subprocess.run(
        [sys.executable, "-m", "stylize", *map(str, arguments), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_writes_the_result_and_intermediate_pictures(files):
    out = files / "out" / "result.png"
    done = run_cli(
        files / "photo.png",
        files / "painting.jpg",
        "-o",
        out,
        "--preset",
        "seed",
        "--size",
        "64",
        "--steps",
        "4",
        "--save-every",
        "2",
        "--network",
        "vgg16-hed",
    )
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (64, 48)
    assert sorted(p.name for p in out.parent.iterdir()) == ["result-step0002.png", "result.png"]
    settings, extra = settings_from_png(out)
    assert settings.steps == 4 and settings.size == 64 and extra["content"] == "photo.png"
    assert "VGG16" in done.stderr  # which network ran is said


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["broken.jpg", "painting.jpg", "-o", "x.png"], "error: content image is not an image"),
        (["photo.png", "missing.jpg", "-o", "x.png"], "error: style image: no such file"),
        (["photo.png", "painting.jpg", "-o", "x.png", "--size", "5"], "error: size is 5 but must be from 64 to 4096"),
        (["photo.png", "painting.jpg", "-o", "x.jpg"], "must end in .png"),
        (["photo.png", "painting.jpg", "-o", "x.png", "--preset", "fastest"], "preset is 'fastest' but must be one of"),
        (["photo.png", "painting.jpg", "-o", "x.png", "--strength", "11"], "strength is 11 but must be from 0 to 10"),
        (
            ["photo.png", "painting.jpg", "-o", "x.png", "--tile-detail", "3"],
            "tile_detail is 3 but must be from 0 to 1",
        ),
        (
            ["photo.png", "painting.jpg", "-o", "x.png", "--tile-detail", "1"],
            "tile_detail is given but size 512 is not",
        ),
        (
            ["photo.png", "painting.jpg", "-o", "x.png", "--content-layer", "conv4_2"],
            "content_layer is 'conv4_2' but must be one of: block5_conv2, block4_conv2",
        ),
    ],
)
def test_bad_input_gets_one_line_and_a_nonzero_status(files, arguments, message):
    content, style, _, output, *rest = arguments
    done = run_cli(files / content, files / style, "-o", files / output, *rest)
    assert done.returncode == 2
    assert message in done.stderr.strip().splitlines()[-1]
    assert not (files / "x.png").exists()


def test_two_styles_blend_and_a_mask(files):
    mask = np.zeros((60, 80), np.uint8)
    mask[:, 40:] = 255
    Image.fromarray(mask).save(files / "mask.png")
    out = files / "blend.png"
    done = run_cli(
        files / "photo.png",
        files / "painting.jpg",
        files / "photo.png",
        "--blend",
        "3",
        "1",
        "--mask",
        files / "mask.png",
        "--colors",
        "luminance",
        "-o",
        out,
        "--size",
        "64",
        "--steps",
        "2",
        "--network",
        "vgg16-hed",
        "--preset",
        "seed",
    )
    assert done.returncode == 0, done.stderr
    settings, extra = settings_from_png(out)
    assert settings.style_blend == (3.0, 1.0) and settings.colors == "luminance"
    assert extra["style"] == ["painting.jpg", "photo.png"]


def test_flags_override_the_preset():
    arguments = parse_arguments(
        ["a.png", "b.png", "-o", "c.png", "--preset", "quick", "--steps", "7", "--style-weight", "0.5"]
    )
    settings = settings_from_arguments(arguments)
    assert settings.steps == 7 and settings.style_weight == 0.5 and settings.optimizer == "lbfgs"
    strong = settings_from_arguments(parse_arguments(["a.png", "b.png", "-o", "c.png", "--strength", "8"]))
    assert strong.strength == 8.0 and strong.style_weight is None and strong.normalize
    assert settings.seconds is None and strong.seconds == 60.0  # exact steps override the preset's time
    assert settings_from_arguments(parse_arguments(["a.png", "b.png", "-o", "c.png", "--seconds", "20"])).seconds == 20
    poster = ["a.png", "b.png", "-o", "c.png", "--size", "2048", "--tile-detail", "0.5"]
    assert settings_from_arguments(parse_arguments(poster)).tile_detail == 0.5
    best = ["a.png", "b.png", "-o", "c.png", "--preset", "best"]
    assert settings_from_arguments(parse_arguments(best)).content_layer == "block4_conv2"
    deeper = settings_from_arguments(parse_arguments([*best, "--content-layer", "block5_conv2"]))
    assert deeper.content_layer == "block5_conv2"


def test_a_time_budget_is_kept_and_its_result_replays_exactly(files):
    out, again = files / "timed.png", files / "again.png"
    done = run_cli(
        files / "photo.png",
        files / "painting.jpg",
        "-o",
        out,
        "--size",
        "64",
        "--seconds",
        "6",
        "--start-size",
        "32",
        "--coarse-steps",
        "3",
        "--network",
        "vgg16-hed",
        "--init",
        "content",
    )
    assert done.returncode == 0, done.stderr
    assert "the run takes at most 6 s" in done.stderr
    seconds = float(done.stderr.split(" in ")[-1].split(" s:")[0])  # "Wrote ... (64x48) in 5.9 s: 3 + 3 + 40 ..."
    assert seconds <= 6.0 + 0.5  # the final picture's writing comes after the budget
    settings, _ = settings_from_png(out)
    assert settings.seconds is None and len(settings.scale_steps) == 3 and settings.scale_steps[-1] > 0
    assert f"{settings.steps_text()}" in done.stderr
    replayed = run_cli(files / "photo.png", files / "painting.jpg", "-o", again, "--recipe", out)
    assert replayed.returncode == 0, replayed.stderr
    np.testing.assert_array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(out)))


def test_a_result_png_gives_its_settings_back(files):
    made = files / "made.png"
    done = run_cli(
        files / "photo.png",
        files / "painting.jpg",
        "-o",
        made,
        "--preset",
        "seed",
        "--size",
        "64",
        "--steps",
        "2",
        "--network",
        "vgg16-hed",
        "--colors",
        "luminance",
    )
    assert done.returncode == 0, done.stderr
    arguments = parse_arguments(["a.png", "b.png", "-o", "c.png", "--recipe", str(made), "--steps", "9"])
    settings = settings_from_arguments(arguments)
    assert (settings.size, settings.colors, settings.antialias, settings.steps) == (64, "luminance", False, 9)
    plain = run_cli(files / "photo.png", files / "painting.jpg", "-o", files / "x.png", "--recipe", files / "photo.png")
    assert plain.returncode == 2 and "not made by the studio" in plain.stderr


def test_the_bar_shows_the_engines_time_left_not_a_step_count(files, random_vgg16, monkeypatch, capsys):
    from stylize.cli import transfer
    from stylize.gatys import networks

    monkeypatch.setattr(networks, "load_network", lambda *args, **kwargs: random_vgg16)
    status = transfer.main(
        [
            str(files / "photo.png"),
            str(files / "painting.jpg"),
            "-o",
            str(files / "bar.png"),
            "--preset",
            "seed",
            "--size",
            "64",
            "--start-size",
            "32",
            "--coarse-steps",
            "3",
            "--steps",
            "4",
            "--preview-every",
            "1",
        ]
    )
    bar = capsys.readouterr().err
    assert status == 0, bar
    assert "left=" in bar  # the engine's estimate, weighted by each scale's pixels
    assert "<" not in bar  # tqdm's own, which counts a 32 px step like a 64 px one


@pytest.mark.parametrize(
    "old, new", [("stylize.instant", "stylize.cli.instant"), ("stylize.train", "stylize.cli.train")]
)
def test_the_previous_module_commands_still_run(old, new):
    done = subprocess.run([sys.executable, "-m", old, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"usage: python -m {new}" in done.stdout
