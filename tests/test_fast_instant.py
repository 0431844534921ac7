"""TensorFlow's instant network path: loading, resizing, pixel-blend strength, failures, with a stand-in SavedModel."""

import numpy as np
import pytest

from stylize.cli import instant as instant_cli
from stylize.core.cache import BoundedCache
from stylize.core.images import load_image, save_png
from stylize.fast import instant
from stylize.fast.instant import InstantUnavailable, instant_stylize, load_instant


def test_loads_from_a_folder_once_and_keeps_the_content_size(stand_in_folder, content, style):
    model = load_instant(stand_in_folder)
    assert load_instant(stand_in_folder) is model and model.source == str(stand_in_folder)
    odd = content[:45, :61]
    result = instant_stylize(odd, style, model=model)
    assert result.dtype == np.uint8 and result.shape == (45, 61, 3)


def test_the_style_matters_and_is_resized_to_style_size(stand_in_folder, content, style):
    model = load_instant(stand_in_folder)
    dark, bright = np.zeros((40, 40, 3), np.float32), np.ones((90, 30, 3), np.float32)
    assert instant_stylize(content, dark, model=model).mean() < instant_stylize(content, bright, model=model).mean()
    expected = 0.5 * content + 0.5 * style.mean(axis=(0, 1))  # a multiple-of-4 content: no resizing back
    result = instant_stylize(content, style, model=model, style_size=64)
    assert np.abs(result / 255.0 - expected).max() < 0.01
    with pytest.raises(ValueError, match="style_size is 32 but must be from 64 to 1024"):
        instant_stylize(content, style, model=model, style_size=32)


def test_strength_blends_pixels(stand_in_folder, content, style):
    model = load_instant(stand_in_folder)
    none = instant_stylize(content, style, strength=0.0, model=model)
    full = instant_stylize(content, style, strength=1.0, model=model).astype(float)
    half = instant_stylize(content, style, strength=0.5, model=model).astype(float)
    np.testing.assert_array_equal(none, np.round(content * 255).astype(np.uint8))
    assert np.abs(half - (none + full) / 2).max() <= 1.0
    with pytest.raises(ValueError, match="strength is 1.5 but must be from 0 to 1"):
        instant_stylize(content, style, strength=1.5, model=model)


def test_size_sets_the_output_longer_side(stand_in_folder, content, style):
    assert instant_stylize(content, style, size=100, model=load_instant(stand_in_folder)).shape == (75, 100, 3)


def test_the_environment_variable_names_a_local_copy(stand_in_folder, monkeypatch):
    monkeypatch.setenv(instant.MODEL_ENV, str(stand_in_folder))
    assert load_instant().source == str(stand_in_folder)


def test_offline_failure_says_how_to_get_the_model(monkeypatch, tmp_path):
    import kagglehub
    import requests

    def offline(handle, *args, **kwargs):
        assert handle == instant.KAGGLE_HANDLE
        raise requests.exceptions.ConnectionError("Failed to resolve 'www.kaggle.com'")

    def not_installed():
        raise instant.BundledUnavailable("the bundled networks need onnxruntime: pip install ...")

    monkeypatch.delenv(instant.MODEL_ENV, raising=False)
    monkeypatch.setattr(kagglehub, "model_download", offline)
    monkeypatch.setattr(instant, "load_bundled", not_installed)  # else the bundled networks stand in
    monkeypatch.setattr(instant, "loaded_networks", BoundedCache())  # load afresh
    with pytest.raises(InstantUnavailable) as caught:
        load_instant()
    message = str(caught.value)
    assert "\n" not in message
    assert "could not be downloaded" in message and "offline?" in message
    assert instant.HUB_HANDLE in message and instant.MODEL_ENV in message and "--instant-model" in message
    assert "pip install" in message


def test_a_folder_without_a_model_says_so(tmp_path):
    with pytest.raises(InstantUnavailable, match="has no saved_model.pb"):
        load_instant(tmp_path)
    (tmp_path / "saved_model.pb").write_bytes(b"garbage")
    with pytest.raises(InstantUnavailable, match="could not be loaded") as caught:
        load_instant(tmp_path)
    assert "\n" not in str(caught.value)


def test_the_command_line_writes_the_picture(stand_in_folder, content, style, tmp_path):
    save_png(tmp_path / "c.png", content)
    save_png(tmp_path / "s.png", style)
    code = instant_cli.main(
        [
            str(tmp_path / "c.png"),
            str(tmp_path / "s.png"),
            "-o",
            str(tmp_path / "out.png"),
            "--instant-model",
            str(stand_in_folder),
            "--strength",
            "0.7",
        ]
    )
    assert code == 0 and load_image(tmp_path / "out.png").shape == (48, 64, 3)


def test_the_command_line_reports_a_missing_model_in_one_line(tmp_path, capsys, content):
    save_png(tmp_path / "c.png", content)
    code = instant_cli.main(
        [
            str(tmp_path / "c.png"),
            str(tmp_path / "c.png"),
            "-o",
            str(tmp_path / "out.png"),
            "--instant-model",
            str(tmp_path / "nowhere"),
        ]
    )
    error = capsys.readouterr().err.strip()
    assert code == 2 and error.startswith("error: instant model folder") and "\n" not in error
