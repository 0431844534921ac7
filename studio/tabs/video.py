"""The Video tab: a clip through a fast network, its frames streamed live, then a playable H.264 mp4 to download."""

from __future__ import annotations

import secrets
import time
from typing import NamedTuple

import gradio as gr

from stylize import video
from stylize.core.costs import video_bytes
from stylize.core.limits import BUDGET, DECODE_MARGIN
from stylize.fast.instant import STYLE_SIZE
from stylize.video.settings import CONSISTENCY_RANGE, DEFAULT_CONSISTENCY, VIDEO_SIZE_RANGE

from .. import hosting, sessions
from ..calls import decoded, page_errors, upload_bytes
from ..components import ClipUpload, Preview, Upload
from ..status import format_seconds, message_html
from ..trained import trained_network
from ..wiring import OPTIMIZE_SLOT, PAGE_ONLY, with_request
from .webcam import BUILTIN, INSTANT, network_choice

# The part of the engine's size range a CPU server streams at a few frames a second; the command line takes the rest.
VIDEO_SIZE_SLIDER = (max(128, VIDEO_SIZE_RANGE[0]), 1024)
PREVIEW_SECONDS = 0.25  # the shortest time between two frames sent to the page: a few a second
RUN_INPUTS = ("clip", "choice", "style", "spec", "amount", "consistency", "size")


def about() -> str:
    limits = hosting.VIDEO_LIMITS
    return (
        "A clip through a fast network, frame by frame: the uploaded style painting (instant network), the built-in "
        "style picked in the Built-in & trained styles tab, or a trained style. **Consistency** carries the previous "
        "stylised frame along the optical flow where it holds, so the style does not flicker (0: each frame on its "
        "own); a built-in style is carried mostly inside its network, which keeps its strokes sharp. The stylised "
        "frames show as they are made; Stop keeps what is done as a playable file. The result is "
        "an H.264 mp4 with the clip's sound. "
        f"**On this server** a clip may be up to {format_seconds(limits.max_seconds)}, "
        f"{limits.max_side} px on its longer side, {limits.max_fps:g} frames a second and "
        f"{limits.max_bytes / 2**20:.0f} MB."
    )


class VideoOutputs(NamedTuple):
    """What a clip's run shows, the event's outputs in order: the latest frame and the status line as it goes,
    then the stylised clip and its download."""

    frame: Preview
    status: gr.HTML
    result: gr.Video
    download: gr.DownloadButton


def frames_for(choice: str, style, spec, amount) -> video.StylizerFactory:
    """The per-shot stylizer the choice names: the instant network on the painting (amount moves its style code),
    a built-in style or blend, or a trained style (amount blends their pixels with the frame's, as their tab does)."""
    if choice == INSTANT:
        if style is None:
            raise gr.Error("Upload a style painting above to use Instant on a clip.")
        with BUDGET.reserve(upload_bytes(style), "this clip"):
            painting = decoded(style, "style image", DECODE_MARGIN * STYLE_SIZE)
        return video.instant_frames(painting, strength=amount)
    if choice == BUILTIN:
        return video.builtin_frames(str(spec).strip(), strength=amount)
    return video.trained_frames(trained_network(choice), strength=amount)


def make_video_run(out: VideoOutputs):
    """The Stylize clip button's handler: the client's run claim (shared with the Optimize tab: a clip is a long
    job) taken, then the clip streamed into out, however it ends."""

    def run(*inputs):
        *values, request = inputs
        claim = sessions.runs.start(hosting.client_address(request), getattr(request, "session_hash", None))
        if claim is None:  # Stop was pressed while this run waited: give the slot straight back
            yield {out.status: message_html("Cancelled before it started.")}
            return
        try:  # every way out releases the claim: finishing, an error, Stop, the page closing
            yield from claimed_clip(out, claim, sessions.session_key(request), dict(zip(RUN_INPUTS, values)))
        finally:
            sessions.runs.finish(claim)

    return with_request(run, RUN_INPUTS)


def claimed_clip(out: VideoOutputs, claim: sessions.Claim, key: str, named: dict):
    """A clip whose turn came: probed within this server's limits, its memory held, streamed, then offered."""
    if named["clip"] is None:
        raise gr.Error("Upload a clip first.")
    with page_errors("this clip", smaller="size"):
        size = checked_size(named["size"])
        info = video.probe(named["clip"], hosting.VIDEO_LIMITS)  # one line for anything that is not a usable clip
        factory = frames_for(named["choice"], named["style"], named["spec"], named["amount"])
        path = hosting.session_folder(key) / f"video-{secrets.token_hex(8)}.mp4"
        with BUDGET.reserve(video_bytes(video.output_shape(info, size)), "this clip"):
            frames = video.stylize_clip(
                named["clip"],
                path,
                factory,
                size=size,
                consistency=float(named["consistency"]),
                limits=hosting.VIDEO_LIMITS,
            )
            record, state = yield from streamed(frames, claim, out)
    if record is None or not path.exists():
        yield {out.status: message_html(state or "Stopped before the first frame: there is nothing to keep.")}
        return
    hosting.prune_results(time.time())
    yield {
        out.frame: record.image,
        out.status: video_status(record, ending(record, state)),
        out.result: str(path),
        out.download: gr.update(value=str(path), visible=True),
    }


def checked_size(size) -> int:
    """The size slider's value from a stranger: a number within the slider's range."""
    low, high = VIDEO_SIZE_SLIDER
    if not isinstance(size, (int, float)) or not low <= size <= high:
        raise ValueError(f"size is {size!r} but must be from {low} to {high} px")
    return int(size)


def streamed(frames, claim: sessions.Claim, out: VideoOutputs):
    """The clip's frames on the page, one at most every PREVIEW_SECONDS, until it ends, Stop is pressed or this
    server's time limit is reached; closing the engine's generator finishes the mp4 of the frames done. Returns
    the last record and why it stopped early ("" if it did not)."""
    record, shown_at, state = None, 0.0, ""
    try:
        for record in frames:
            if claim.stop.is_set():
                break
            if record.elapsed > hosting.MAX_SECONDS:
                state = (
                    f"Stopped at frame {record.frame} of {record.total}: this server's limit of "
                    f"{format_seconds(hosting.MAX_SECONDS)} per run was reached; the frames done are kept"
                )
                break
            if record.path is None and time.monotonic() - shown_at >= PREVIEW_SECONDS:
                shown_at = time.monotonic()
                yield {out.frame: record.image, out.status: video_status(record)}
    finally:
        frames.close()
    return record, state


def ending(record: video.VideoProgress, state: str) -> str:
    """How the run ended, for its last status line."""
    if state:
        return state
    if record.path is None:
        return f"Stopped at frame {record.frame} of {record.total}: the frames done are kept"
    return f"Done: {record.frame} frames"


def video_status(record: video.VideoProgress, state: str = "") -> str:
    """A progress bar and one line: frames done / total, frames a second, and time left (or how it ended)."""
    if state:
        pieces = [state, f"{format_seconds(record.elapsed)} at {record.fps:.1f} frames/s"]
    else:
        pieces = [
            f"Frame {record.frame} / {record.total}",
            f"{record.fps:.1f} frames/s",
            f"about {format_seconds(record.seconds_left)} left",
            f"{format_seconds(record.elapsed)} elapsed",
        ]
    percent = round(100 * min(1.0, record.frame / max(1, record.total)))
    return (
        f'<div class="run-status"><progress max="100" value="{percent}"></progress>'
        f"<span>{' · '.join(pieces)}</span></div>"
    )


def video_tab(style: Upload, builtin_spec: gr.Textbox, refresh: gr.Button) -> None:
    """The Video tab: a clip through the painting (instant), the built-in style chosen in its tab or a trained one."""
    with gr.Tab("Video"):
        gr.Markdown(about())
        with gr.Row(equal_height=True):
            clip = ClipUpload(label="Clip", sources=["upload"], height=300, elem_id="clip-upload")
            frame = Preview(label="Stylised frames (live)", interactive=False, height=300, elem_id="video-live")
        with gr.Row():
            choice, amount = network_choice(refresh)
            consistency = gr.Slider(
                *CONSISTENCY_RANGE,
                value=DEFAULT_CONSISTENCY,
                step=0.05,
                label="Consistency",
                info="0: each frame on its own (flickers); higher: the previous frame carried along the motion",
            )
            size = gr.Slider(*VIDEO_SIZE_SLIDER, value=512, step=16, label="Output size (longer side, px)")
        with gr.Row():
            run_button = gr.Button("Stylize clip", variant="primary")
            stop_button = gr.Button("Stop", variant="stop")
        status = gr.HTML(message_html("Ready."), elem_id="video-status")
        result = gr.Video(label="Stylised clip", interactive=False, height=360, elem_id="video-result")
        download = gr.DownloadButton("Download MP4 (H.264)", visible=False, elem_id="video-download")
        out = VideoOutputs(frame, status, result, download)
        run = make_video_run(out)
        run_button.click(
            run,
            [clip, choice, style, builtin_spec, amount, consistency, size],
            list(out),
            show_progress="hidden",
            api_name="video",
            validator=sessions.make_claim(run),
            **OPTIMIZE_SLOT,
        )
        stop_button.click(sessions.stop, None, None, **PAGE_ONLY)
