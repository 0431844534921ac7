"""Training a transformation network on tiny generated photos with a random VGG16: losses, files, resume, errors."""

import os

import numpy as np
import pytest
from PIL import Image

from stylize.cli import train as train_cli
from stylize.core.images import save_png
from stylize.fast.training import NoTrainingImages, TrainSettings, center_square, preview_path, state_path, train
from stylize.fast.transformer import apply_transformer, load_transformer

TINY = TrainSettings(
    size=32, batch_size=2, steps=12, width=0.25, residual_blocks=1, preview_every=6, checkpoint_every=6
)


@pytest.fixture
def photos(tmp_path, make_picture):
    folder = tmp_path / "photos"
    for i in range(3):
        save_png(folder / f"photo{i}.png", make_picture(40, 56, seed=10 + i))
    return folder


def test_a_few_steps_give_finite_falling_losses_and_write_the_files(random_vgg16, style, photos, tmp_path):
    output = tmp_path / "out" / "mine.keras"
    records = list(train(style, photos, output, TINY, network=random_vgg16))
    assert [r.step for r in records] == list(range(1, 13)) and records[-1].done
    totals = [r.losses["total"] for r in records]
    assert all(np.isfinite(v) for r in records for v in r.losses.values())
    assert set(records[0].losses) == {"style", "content", "tv", "total"}
    assert np.mean(totals[-3:]) < 0.8 * np.mean(totals[:3]), totals
    assert all(r.images_per_second > 0 and r.skipped == 0 for r in records)
    assert [r.step for r in records if r.preview is not None] == [6, 12]
    assert [r.step for r in records if r.checkpoint is not None] == [6, 12]
    assert records[5].preview.shape == (32, 64, 3) and records[5].preview.dtype == np.uint8
    assert output.is_file() and state_path(output).is_file() and preview_path(output).is_file()


def test_the_saved_network_is_the_trained_one(random_vgg16, style, content, photos, tmp_path):
    output = tmp_path / "mine.keras"
    *_, last = train(style, photos, output, TINY.replace(steps=3, preview_every=3), network=random_vgg16)
    # The last preview is the in-memory network on the first photo's middle square; the file must agree.
    subject = center_square(np.asarray(Image.open(photos / "photo0.png")), 32)
    from_file = apply_transformer(load_transformer(output), subject)
    assert np.abs(from_file.astype(int) - last.preview[:, 32:]).max() <= 1
    odd = content[:45, :61]  # an odd size: the padding inside the network crops back to it
    assert apply_transformer(load_transformer(output), odd).shape == (45, 61, 3)


def test_resume_continues_where_the_checkpoint_left_off(random_vgg16, style, photos, tmp_path):
    output = tmp_path / "mine.keras"
    settings = TINY.replace(steps=4, checkpoint_every=2, preview_every=0)
    run = train(style, photos, output, settings, network=random_vgg16)
    for record in run:
        if record.step == 3:  # stopped between checkpoints: step 2 is the one on disk
            run.close()
    resumed = list(train(style, photos, output, settings.replace(steps=5), network=random_vgg16, resume=True))
    assert [r.step for r in resumed] == [3, 4, 5]
    with pytest.raises(ValueError, match="already trained 5 steps"):
        next(train(style, photos, output, settings.replace(steps=5), network=random_vgg16, resume=True))
    with pytest.raises(ValueError, match="cannot resume"):
        next(train(style, photos, tmp_path / "other.keras", settings, network=random_vgg16, resume=True))


def test_unreadable_files_are_skipped_and_counted(random_vgg16, style, photos, tmp_path):
    (photos / "notes.txt").write_text("not a picture")
    (photos / "truncated.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    records = list(
        train(style, photos, tmp_path / "m.keras", TINY.replace(steps=6, batch_size=4), network=random_vgg16)
    )
    assert records[-1].skipped == 2  # 24 picks over 5 files: both bad ones were met
    assert np.isfinite(records[-1].losses["total"])


def test_an_empty_folder_says_so(style, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoTrainingImages, match="has no files"):
        next(train(style, tmp_path / "empty", tmp_path / "m.keras", TINY))
    with pytest.raises(NoTrainingImages, match="does not exist"):
        next(train(style, tmp_path / "nowhere", tmp_path / "m.keras", TINY))


def test_a_folder_of_unreadable_files_says_so(style, tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"nope")
    (folder / "b.png").write_bytes(b"")
    with pytest.raises(NoTrainingImages, match="has 2 files but none is a readable picture"):
        next(train(style, folder, tmp_path / "m.keras", TINY))


def test_output_must_be_a_keras_file(style, photos, tmp_path):
    with pytest.raises(ValueError, match="must be a file name ending in .keras"):
        next(train(style, photos, tmp_path / "m.h5", TINY))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("size", 8, "size is 8 but must be from 32 to 1024"),
        ("batch_size", 0, "batch_size is 0 but must be from 1 to 64"),
        ("network", "resnet", "network is 'resnet' but must be one of"),
        ("preview_every", -1, "preview_every is -1 but must be from 0"),
    ],
)
def test_settings_name_the_bad_value_and_the_range(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainSettings(**{field: value})


def test_the_command_line_fails_with_one_line_for_an_empty_folder(style, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    style_file = tmp_path / "style.png"
    save_png(style_file, style)
    code = train_cli.main(
        [
            "--style",
            str(style_file),
            "--images",
            str(tmp_path / "empty"),
            "-o",
            str(tmp_path / "m.keras"),
            "--steps",
            "1",
        ]
    )
    error = capsys.readouterr().err.strip()
    assert code != 0
    assert error.count("\n") == 0 and error.startswith("error: images folder") and "has no files" in error


def test_the_command_line_trains_and_reports(random_vgg16, style, photos, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train_cli, "train", _with_network(train_cli.train, random_vgg16))
    style_file = tmp_path / "style.png"
    save_png(style_file, style)
    (photos / "broken.jpg").write_bytes(b"nope")
    output = tmp_path / "m.keras"
    code = train_cli.main(
        [
            "--style",
            str(style_file),
            "--images",
            str(photos),
            "-o",
            str(output),
            "--size",
            "32",
            "--batch-size",
            "4",
            "--steps",
            "2",
            "--width",
            "0.25",
            "--residual-blocks",
            "1",
            "--preview-every",
            "1",
        ]
    )
    error = capsys.readouterr().err
    assert code == 0 and output.is_file() and os.path.getsize(output) > 0
    assert "loss=" in error and "img/s=" in error  # the progress bar's postfix
    assert f"saved {output}" in error


def _with_network(train_function, network):
    def run(*args, **kwargs):
        return train_function(*args, network=network, **kwargs)

    return run
