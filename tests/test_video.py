"""The video engine end to end on small generated clips: playable H.264 out with the audio, stop, cuts, segments,
bounds (one line per bad file), no temporary files left, the command line."""

from __future__ import annotations

import re
import subprocess
import tempfile

import imageio_ffmpeg
import numpy as np
import pytest

from stylize.cli import video as video_cli
from stylize.video import VideoLimits, join_segments, probe, stylize_clip

FPS = 24
EXE = imageio_ffmpeg.get_ffmpeg_exe()


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random picture, uint8 HxWx3: something for the flow to follow."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (height // 8 + 2, width // 8 + 2, 3))
    big = np.kron(coarse, np.ones((8, 8, 1)))[:height, :width]
    return big.astype(np.uint8)


def panning(frames: int, height: int = 64, width: int = 96, step: int = 2, seed: int = 0) -> list[np.ndarray]:
    """A view sliding right over a wider picture by `step` px a frame."""
    wide = texture(height, width + step * frames, seed)
    return [wide[:, step * index : step * index + width] for index in range(frames)]


def write_clip(path, pictures: list[np.ndarray], audio: bool = True, fps: int = FPS, codec: str = "libx264"):
    """pictures encoded by the bundled ffmpeg (yuv420p), with a 440 Hz tone as long as the video when audio."""
    height, width = pictures[0].shape[:2]
    seconds = len(pictures) / fps
    tone = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"] if audio else []
    arguments = [EXE, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
    arguments += ["-r", str(fps), "-i", "pipe:0", *tone, "-c:v", codec, "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(arguments, input=b"".join(p.tobytes() for p in pictures), check=True)
    return path


def streams(path) -> str:
    """ffmpeg's description of a file's streams."""
    text = subprocess.run([EXE, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return "\n".join(line for line in text.splitlines() if "Stream #" in line)


def decoded_frames(path) -> int:
    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]


def frame_times(path) -> list[float]:
    """Each decoded frame's presentation time, from ffmpeg's showinfo filter."""
    arguments = [EXE, "-hide_banner", "-i", str(path), "-map", "0:v", "-vf", "showinfo", "-f", "null", "-"]
    shown = subprocess.run(arguments, capture_output=True, text=True).stderr
    return [float(field.split(":")[1]) for field in shown.split() if field.startswith("pts_time:")]


def darker(first: np.ndarray):
    """A stand-in stylizer factory that needs no network: each shot's frames darkened."""
    return lambda frame: frame * 0.5


@pytest.fixture
def clean_temp(tmp_path, monkeypatch):
    """The engine's temporary folders go here, to check none is left."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_output_is_browser_h264_with_audio_and_every_frame(tmp_path, clean_temp):
    clip = write_clip(tmp_path / "in.mp4", panning(24, width=98, height=66))
    out = tmp_path / "out.mp4"
    records = list(stylize_clip(clip, out, darker, size=81))
    assert [r.frame for r in records[:-1]] == list(range(1, 25))
    assert records[-1].path == str(out) and all(r.path is None for r in records[:-1])
    assert records[0].image.dtype == np.uint8 and records[0].image.shape == (54, 80, 3)  # 81x54 made even
    described = streams(out)
    assert re.search(r"Video: h264 .*yuv420p.*, 80x54", described), described
    assert "Audio: aac" in described
    assert decoded_frames(out) == 24
    info = probe(out)
    assert info.has_audio and abs(info.seconds - 1.0) < 0.1
    assert list(clean_temp.iterdir()) == []


def test_stop_keeps_a_playable_file_of_the_frames_done(tmp_path, clean_temp):
    clip = write_clip(tmp_path / "in.mp4", panning(48))
    out = tmp_path / "out.mp4"
    run = stylize_clip(clip, out, darker, size=96)
    for record in run:
        if record.frame == 6:
            break
    run.close()
    assert decoded_frames(out) == 6
    info = probe(out)
    assert info.has_audio and info.seconds < 0.4  # the audio cut to the frames done, not the clip's 2 s
    assert list(clean_temp.iterdir()) == []


def test_a_cut_starts_a_new_shot_with_its_own_stylizer(tmp_path):
    pictures = panning(10, seed=1) + [p // 3 + 170 for p in panning(10, seed=2)]  # another, brighter scene
    clip = write_clip(tmp_path / "in.mp4", pictures, audio=False)
    shots = []

    def factory(first):
        shots.append(first)
        return lambda frame: np.full_like(frame, len(shots) / 4)  # each shot its own flat grey

    records = list(stylize_clip(clip, tmp_path / "out.mp4", factory, size=96))[:-1]
    assert [r.frame for r in records if r.cut] == [11]
    assert len(shots) == 2
    # The fusion state was reset: the cut frame is the new shot's grey, with none of the old one's mixed in.
    assert np.abs(records[10].image.astype(int) - round(255 * 2 / 4)).max() <= 1
    assert not (tmp_path / "out.mp4.part").exists() and probe(tmp_path / "out.mp4").has_audio is False


def warping_error(images: list[np.ndarray], step: int, margin: int = 8) -> float:
    """Mean squared difference between each output and the previous one moved by the known pan."""
    errors = []
    for previous, current in zip(images, images[1:]):
        moved = previous[:, step:].astype(float)  # the view moved right: what was at x + step is now at x
        errors.append(np.mean((current[margin:-margin, :-step][:, margin:] - moved[margin:-margin, margin:]) ** 2))
    return float(np.mean(errors))


def test_fusion_cuts_the_warping_error_of_a_flickering_stylizer(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", panning(24, height=96, width=128), audio=False)
    rng = np.random.default_rng(0)

    def flicker(first):  # the frame, with a random brightness and noise every frame: what a network's flicker is
        return lambda frame: np.clip(frame * rng.uniform(0.7, 1.0) + rng.normal(0, 0.05, frame.shape), 0, 1)

    def run(consistency):
        records = stylize_clip(clip, tmp_path / f"{consistency}.mp4", flicker, size=128, consistency=consistency)
        return [r.image for r in list(records)[:-1]]

    per_frame, fused = warping_error(run(0.0), 2), warping_error(run(0.7), 2)
    assert fused < 0.5 * per_frame, (fused, per_frame)


def test_segments_warm_up_then_join_with_the_audio(tmp_path, clean_temp):
    clip = write_clip(tmp_path / "in.mp4", panning(36))
    parts = []
    for index, (start, stop) in enumerate(((0, 12), (12, 24), (24, 36))):
        parts.append(tmp_path / f"part{index}.mp4")
        records = list(stylize_clip(clip, parts[-1], darker, size=96, start=start, stop=stop, warmup=4))
        assert records[-1].frame == 12 and decoded_frames(parts[-1]) == 12
    joined = tmp_path / "joined.mp4"
    join_segments(parts, joined, audio_from=clip)
    assert decoded_frames(joined) == 36
    times = frame_times(joined)
    assert times[0] == pytest.approx(0.0, abs=1e-3)
    assert np.allclose(np.diff(times), 1 / FPS, atol=1e-3)  # no gap at the joins: the frames keep to the sound
    info = probe(joined)
    assert info.has_audio and abs(info.seconds - 1.5) < 0.1
    assert list(clean_temp.iterdir()) == []


def bad_files(folder):
    """(name, path, limits) of files every one of which must be refused in one line."""
    good = write_clip(folder / "good.mp4", panning(12))
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])  # the index (moov) is at the end
    text = folder / "notes.mp4"
    text.write_text("not a video at all\n" * 50)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    picture = folder / "picture.png"
    subprocess.run([EXE, "-v", "error", "-f", "lavfi", "-i", "color=red:size=32x32", "-frames:v", "1", str(picture)])
    sound = folder / "sound.m4a"
    subprocess.run([EXE, "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "aac", str(sound)])
    playlist = folder / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXTINF:1,\n{good}\n#EXT-X-ENDLIST\n")
    return [
        ("truncated", truncated, VideoLimits()),
        ("text", text, VideoLimits()),
        ("empty", empty, VideoLimits()),
        ("picture", picture, VideoLimits()),
        ("sound only", sound, VideoLimits()),
        ("playlist", playlist, VideoLimits()),
        ("missing", folder / "nowhere.mp4", VideoLimits()),
        ("huge resolution", good, VideoLimits(max_side=64)),
        ("too long", good, VideoLimits(max_seconds=0.25)),
        ("too many fps", good, VideoLimits(max_fps=12)),
        ("too many bytes", good, VideoLimits(max_bytes=1000)),
    ]


def test_every_bad_file_is_refused_in_one_line(tmp_path, clean_temp):
    out = tmp_path / "out.mp4"
    for name, path, limits in bad_files(tmp_path):
        with pytest.raises(ValueError) as refused:
            list(stylize_clip(path, out, darker, size=96, limits=limits))
        message = str(refused.value)
        assert "\n" not in message and 10 < len(message) < 300, (name, message)
        assert not out.exists(), name
    assert list(clean_temp.iterdir()) == []


def test_limits_name_what_is_wrong(tmp_path):
    good = write_clip(tmp_path / "good.mp4", panning(12))
    with pytest.raises(ValueError, match="96x64 but its longer side may be at most 64"):
        probe(good, VideoLimits(max_side=64))
    with pytest.raises(ValueError, match="24 frames per second but may have at most 12"):
        probe(good, VideoLimits(max_fps=12))
    with pytest.raises(ValueError, match="consistency is 2 but must be from 0 to 1"):
        next(stylize_clip(good, tmp_path / "out.mp4", darker, consistency=2))


def test_command_line_writes_the_clip_and_refuses_a_bad_one(tmp_path, capsys):
    clip = write_clip(tmp_path / "in.mp4", panning(8))
    out = tmp_path / "out.mp4"
    assert video_cli.main([str(clip), "--builtin", "3", "-o", str(out), "--size", "96"]) == 0
    assert decoded_frames(out) == 8 and "Audio: aac" in streams(out)
    assert "saved" in capsys.readouterr().err
    (tmp_path / "bad.mp4").write_text("nope")
    assert video_cli.main([str(tmp_path / "bad.mp4"), "--builtin", "3", "-o", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: the clip 'bad.mp4' is not a video")


def test_ffmpegs_complaint_reaches_a_person_without_its_component_and_address():
    from stylize.video.ffmpeg import stderr_line

    line = stderr_line(b"frame=1\n[out#0/rawvideo @ 0x55b00d9fe540] Nothing was written into output file\n")
    assert line == "Nothing was written into output file"
