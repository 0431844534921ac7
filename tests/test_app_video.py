"""The Video tab through the launched app: a clip streams its frames and ends in a playable mp4; bad files, too long
a clip and Stop each end in one line or a playable file."""

import dataclasses
import subprocess
import types
from pathlib import Path

import pytest
from gradio_client import handle_file

from studio import hosting, sessions
from studio.tabs import video as video_tab
from studio.tabs.webcam import BUILTIN
from stylize import video
from stylize.video import ffmpeg

import hostile
from clips import make_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    (folder / "notes.mp4").write_text("this is not a video\n" * 20)
    return {
        "short": make_clip(folder / "short.mp4", 12),
        "long": make_clip(folder / "long.mp4", 240, fps=24),  # 10 s: time to press Stop
        "notes": folder / "notes.mp4",
    }


def inputs(clip: Path, consistency: float = 0.5, size: int = 128) -> list:
    """/video's inputs: the clip, the network, the painting (none), the built-in style, amount, consistency, size."""
    return [handle_file(str(clip)), BUILTIN, None, "3", 1.0, consistency, size]


def video_path(value) -> str:
    """The result video's file, however gradio_client hands a gr.Video output back."""
    return value["video"] if isinstance(value, dict) else value


def check_playable(path: str) -> int:
    """The file is an mp4 (ftyp box) of H.264 that the engine reads back; its frame count."""
    data = Path(path).read_bytes()
    assert data[4:8] == b"ftyp", data[:16]
    described = subprocess.run([ffmpeg.executable(), "-hide_banner", "-i", path], capture_output=True, text=True).stderr
    assert "Video: h264" in described and "yuv420p" in described, described
    info = video.probe(path)
    assert info.width % 2 == 0 and info.height % 2 == 0
    return info.frames


def test_a_clip_streams_its_frames_and_ends_in_a_playable_mp4(client, clips):
    job = client.submit(*inputs(clips["short"]), api_name="/video")
    final = job.result(timeout=180)
    statuses = [outputs[1] for outputs in job.outputs() if outputs[1]]
    assert any("Frame " in status and "frames/s" in status for status in statuses[:-1]), statuses
    frame, status, result, download = final
    assert "Done: 12 frames" in status, status
    assert check_playable(video_path(result)) == 12
    assert Path(download["value"]).read_bytes() == Path(video_path(result)).read_bytes()


def test_consistency_zero_is_plain_per_frame_and_still_plays(client, clips):
    *_, result, _ = client.predict(*inputs(clips["short"], consistency=0.0, size=160), api_name="/video")
    assert check_playable(video_path(result)) == 12


def test_a_file_that_is_not_a_video_gets_one_line(client, clips):
    message = hostile.one_line_error(lambda: client.predict(*inputs(clips["notes"]), api_name="/video"))
    assert "is not a video" in message


def test_a_clip_longer_than_the_server_allows_gets_one_line(client, clips, monkeypatch):
    monkeypatch.setattr(hosting, "VIDEO_LIMITS", dataclasses.replace(hosting.VIDEO_LIMITS, max_seconds=2.0))
    message = hostile.one_line_error(lambda: client.predict(*inputs(clips["long"]), api_name="/video"))
    assert "lasts 10" in message and "may last at most 2 s" in message
    monkeypatch.setattr(hosting, "VIDEO_LIMITS", dataclasses.replace(hosting.VIDEO_LIMITS, max_side=64))
    message = hostile.one_line_error(lambda: client.predict(*inputs(clips["short"]), api_name="/video"))
    assert "96x64 but its longer side may be at most 64 px" in message


def test_stop_keeps_the_frames_done_as_a_playable_file(client, clips):
    job = client.submit(*inputs(clips["long"]), api_name="/video")
    while not job.outputs() and not job.done():
        job.status()  # waits on the stream
    sessions.stop(types.SimpleNamespace(session_hash=client.session_hash))  # what the page's Stop does
    frame, status, result, download = job.result(timeout=180)
    assert "Stopped at frame" in status, status
    frames = check_playable(video_path(result))
    assert 1 <= frames < 240


def test_a_size_off_the_slider_is_refused():
    with pytest.raises(ValueError, match="size is 4096 but must be from 128 to 1024 px"):
        video_tab.checked_size(4096)
