"""ffmpeg as a child process over pipes: frames decoded out, frames encoded in, audio muxed back, all with timeouts.

ffmpeg is imageio-ffmpeg's static executable (GPL, with libx264), run as a separate program: our code stays MIT,
and a decoder that crashes or hangs on a hostile file takes a child process with it, not the server.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

PACKAGE = "imageio-ffmpeg==0.8.1"
# Demuxers a clip may use: the usual video containers. Images (image2), playlists (hls, concat) and the rest are
# refused before they are opened: a playlist would make ffmpeg read other files or fetch URLs.
FORMATS = "mov,mp4,matroska,webm,avi,mpegts,ogg"
INPUT_GUARDS = ("-format_whitelist", FORMATS, "-protocol_whitelist", "file")
BROWSER_AUDIO = ("aac", "mp3")  # audio codecs an mp4 may carry and every browser plays: copied, others re-encoded
STALL_SECONDS = 60.0  # a decoder or encoder that takes longer than this for one frame is stuck: killed
FINISH_SECONDS = 120.0  # the encoder's flush, muxing the audio, joining segments
QUEUED_FRAMES = 3  # frames decoded ahead, and handed to the encoder, while the current one is stylised
STDERR_TAIL = 4000  # the last characters of ffmpeg's complaints kept for an error message


class VideoUnavailable(RuntimeError):
    """imageio-ffmpeg (the ffmpeg executable) is not installed; the message says what to install."""


def executable() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise VideoUnavailable(f"video needs the ffmpeg executable: pip install {PACKAGE}") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def command(*arguments: str | os.PathLike) -> list[str]:
    """An ffmpeg argv that reads no keyboard and prints errors only."""
    return [executable(), "-nostdin", "-hide_banner", "-loglevel", "error", *map(str, arguments)]


def run(arguments: list[str], timeout: float = FINISH_SECONDS) -> subprocess.CompletedProcess:
    """Run ffmpeg to its end (killed after timeout): its output and stderr as bytes."""
    try:
        return subprocess.run(arguments, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ValueError(f"ffmpeg took over {timeout:g} s and was stopped: the file is too slow to read") from None


# ffmpeg starts a line with the component and its address ("[out#0/rawvideo @ 0x55b00d9fe540] "): noise to a
# person, and an address of the server's process is nothing to show a visitor.
COMPONENT = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")


def stderr_line(stderr: bytes) -> str:
    """ffmpeg's last complaint, as one short line."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace")[-STDERR_TAIL:].splitlines() if line.strip()]
    return COMPONENT.sub("", lines[-1])[:200] if lines else "no message"


class _Child:
    """An ffmpeg process in its own process group (a terminal's Ctrl-C stops us, not it mid-frame), its stderr
    in a file of the call's temporary folder, killed if still running when closed."""

    def __init__(self, arguments: list[str], stderr_path: Path, **pipes):
        self._stderr = open(stderr_path, "wb")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(arguments, stderr=self._stderr, start_new_session=True, **pipes)
        self.stderr_path = stderr_path

    def complaint(self) -> str:
        self._stderr.flush()
        with open(self.stderr_path, "rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - STDERR_TAIL))
            return stderr_line(file.read())

    def close(self, timeout: float = 5.0) -> int | None:
        """Wait up to timeout for the process to end, then kill it; its exit status (None if killed)."""
        try:
            code: int | None = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = None
        self._stderr.close()
        return code


class FrameReader:
    """Decoded frames, uint8 HxWx3 at (height, width), streamed from ffmpeg: a thread reads ahead a few frames,
    never the whole clip."""

    def __init__(self, arguments: list[str], shape: tuple[int, int], stderr_path: Path):
        self.shape = shape
        self._child = _Child(arguments, stderr_path, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self._frames: queue.Queue[np.ndarray | None] = queue.Queue(QUEUED_FRAMES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True, name="video-decoder")
        self._thread.start()

    def _read(self) -> None:
        height, width = self.shape
        size = height * width * 3
        stdout = self._child.process.stdout
        assert stdout is not None
        try:
            while not self._stop.is_set():
                data = stdout.read(size)
                if len(data) < size:  # the end, or a truncated last frame (dropped)
                    break
                self._put(np.frombuffer(data, np.uint8).reshape(height, width, 3))
        finally:
            self._put(None)

    def _put(self, item: np.ndarray | None) -> None:
        while not self._stop.is_set():
            try:
                self._frames.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            try:
                frame = self._frames.get(timeout=STALL_SECONDS)
            except queue.Empty:
                self.close()
                raise ValueError(f"decoding stalled for {STALL_SECONDS:g} s and was stopped") from None
            if frame is None:
                return
            yield frame

    def complaint(self) -> str:
        return self._child.complaint()

    def close(self) -> None:
        self._stop.set()
        self._child.process.kill()  # we read no further: ending it early is what a closed generator asks
        self._child.close()
        self._thread.join(5.0)
        if self._child.process.stdout:
            self._child.process.stdout.close()


class FrameWriter:
    """Frames encoded by ffmpeg to H.264 (yuv420p, even sides) as they come; a thread feeds it while the next
    frame is stylised."""

    def __init__(self, path: Path, shape: tuple[int, int], fps: str, stderr_path: Path):
        height, width = shape
        if height % 2 or width % 2:
            raise ValueError(f"frames are {width}x{height} but yuv420p needs even sides")
        arguments = command(
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", fps, "-i", "pipe:0"),
            *("-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"),
            *("-movflags", "+faststart", "-f", "mp4", "-y", path),
        )
        self.path = path
        self.frames = 0
        self._child = _Child(arguments, stderr_path, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        self._queue: queue.Queue[bytes | None] = queue.Queue(QUEUED_FRAMES)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._write, daemon=True, name="video-encoder")
        self._thread.start()

    def _write(self) -> None:
        stdin = self._child.process.stdin
        assert stdin is not None
        while (data := self._queue.get()) is not None:
            if self._failed is None:
                try:
                    stdin.write(data)
                except (BrokenPipeError, OSError) as error:
                    self._failed = error  # keep draining the queue so write() never blocks on a dead encoder

    def write(self, frame: np.ndarray) -> None:
        if self._failed is not None:
            raise ValueError(f"the encoder stopped: {self._child.complaint()}")
        try:
            self._queue.put(np.ascontiguousarray(frame, np.uint8).tobytes(), timeout=STALL_SECONDS)
        except queue.Full:
            raise ValueError(f"encoding stalled for {STALL_SECONDS:g} s and was stopped") from None
        self.frames += 1

    def close(self) -> bool:
        """Flush and finish the file: True when ffmpeg wrote it whole."""
        self._queue.put(None)
        self._thread.join(STALL_SECONDS)
        stdin = self._child.process.stdin
        if stdin is not None:
            try:
                stdin.close()
            except OSError:
                pass
        return self._child.close(FINISH_SECONDS) == 0 and self._failed is None


def mux(video: Path, out: Path, audio: tuple[str | os.PathLike, str] | None, start: float, seconds: float) -> None:
    """out: the video stream copied, with the first audio stream of audio's (file, codec) from `start` for `seconds`
    (copied if browsers play it in an mp4, else AAC), faststart for playback before the whole file arrives."""
    audio_input: tuple[str, ...] = ("-map", "0:v")
    if audio is not None:
        source, codec = audio
        copy = ("-c:a", "copy") if codec in BROWSER_AUDIO else ("-c:a", "aac", "-b:a", "160k")
        audio_input = (*INPUT_GUARDS, "-ss", f"{start:.6f}", "-i", str(source), "-map", "0:v", "-map", "1:a:0", *copy)
    arguments = command(
        *("-i", str(video), *audio_input, "-c:v", "copy", "-t", f"{seconds:.6f}"),
        *("-movflags", "+faststart", "-f", "mp4", "-y", out),
    )
    result = run(arguments)
    if result.returncode != 0:
        raise ValueError(f"could not write the video: {stderr_line(result.stderr)}")
