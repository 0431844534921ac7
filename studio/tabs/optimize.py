"""The Optimize tab: its components and events; Stylize (check, then stream Progress), restore, presets, steering."""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import numpy as np

from stylize.core import images
from stylize.core.costs import run_bytes, run_shapes
from stylize.core.limits import BUDGET
from stylize.core.recipe import settings_from_png
from stylize.core.settings import DEFAULT_PRESET, PRESETS, Settings, preset, preset_seconds
from stylize.gatys import loop as engine
from stylize.gatys.loop import LossNotFinite, Progress, checked_pictures
from stylize.gatys.losses import style_layer_weights
from stylize.gatys.networks import FeatureNetwork
from stylize.gatys.weights import loss_weights
from stylize.transfer import stylize_pictures

from .. import hosting, sessions
from ..calls import page_errors, upload_bytes
from ..components import MaskEditor, Preview, ResultFile, Upload, control_component, picture_upload
from ..controls import (
    BY_NAME,
    CONTROL_NAMES,
    PRESET_CONTROLS,
    SIZE_SLIDER,
    TIME_SLIDER,
    clamped,
    controls_from_settings,
    preset_values,
    settings_from_controls,
    strength_style_log,
)
from ..masks import decoded_mask
from ..status import format_seconds, message_html, status_html
from ..wiring import LIGHT_SLOT, OPTIMIZE_SLOT, PAGE_ONLY, with_request

PREVIEW_SECONDS = 0.4  # the shortest time between two pictures sent to the page
# A poster's previews and result are sent to the page at most this large (a 4096 px PNG is about 25 MB a time),
# and the before/after slider's pair at most COMPARISON_SIDE; the download is the full-size PNG.
PAGE_SIDE = 1024
COMPARISON_SIDE = 2048
RUN_INPUTS = ("content", "style", "second_style", "mask_value", "history", *CONTROL_NAMES)
PICTURES = ("content", "style", "second_style")  # the run's inputs it decodes, besides the mask's layers
# What steering a run reads: Strength sets the style weight unless it is set by hand.
STEER_INPUTS = (
    "strength",
    "preset_name",
    "normalize",
    "style_from_strength",
    "style_log",
    "content_log",
    "tv_log",
    "content_layer",  # last: gradio_client callers that pass the others by position get the page's default
)
WEIGHTS = ("style_log", "content_log", "tv_log")


class RunOutputs(NamedTuple):
    """What a run shows, the Stylize event's outputs in order: the picture and status line as it goes, then the
    before/after, the PNG to download and the session's history (shown, and kept in the session's state)."""

    picture: Preview
    status: gr.HTML
    comparison: gr.ImageSlider
    download: gr.DownloadButton
    history: gr.Gallery
    history_state: gr.State


class Controls(dict):
    """The tab's controls by name, each made from studio/controls.py's table where it sits on the page."""

    def __init__(self, initial: dict):
        super().__init__()
        self.initial = initial  # what each control shows at first

    def place(self, *names: str) -> None:
        for name in names:
            self[name] = control_component(BY_NAME[name], self.initial[name])


def make_run(network: FeatureNetwork, out: RunOutputs):
    """The Stylize button's handler: its client's claim taken, then the run streamed into out, however it ends."""

    def run(*inputs):
        *values, request = inputs
        claim = sessions.runs.start(hosting.client_address(request), getattr(request, "session_hash", None))
        if claim is None:  # Stop was pressed while this run waited: give the slot straight back
            yield {out.status: message_html("Cancelled before it started.")}
            return
        # Every way out releases the claim: finishing, an error, a refusal, Stop, the page closing (close()).
        try:
            yield from claimed_run(network, out, claim, sessions.session_key(request), dict(zip(RUN_INPUTS, values)))
        finally:
            sessions.runs.finish(claim)

    return with_request(run, RUN_INPUTS)


def claimed_run(network: FeatureNetwork, out: RunOutputs, claim: sessions.Claim, key: str, named: dict):
    """A run whose turn came: checked, its memory held (shared with the other tabs), streamed, then saved."""
    started = engine.clock()  # the run's time counts from here: its turn came, the uploads not yet decoded
    if named["content"] is None or named["style"] is None:
        raise gr.Error("Upload a content photo and a style painting first (or pick an example below).")
    with page_errors("this run", smaller="size or style scale"):
        with BUDGET.reserve(upload_bytes(*(named[name] for name in PICTURES)), "this run"):  # their decoding
            content, styles, settings, shapes = checked_run(named)
        with BUDGET.reserve(run_bytes(*shapes), "this run", shapes[0]):
            mask = reserved_mask(named["mask_value"], content.shape[:2])
            claim.wanted = claim.applied = loss_weights(settings, network)
            run_steps = stylize_pictures(
                content,
                styles,
                settings.replace(preview_every=1),
                network=network,
                mask=mask,
                steer=claim.steering,
                started=started,
            )
            record, state = yield from previews(run_steps, claim, out)
            if record is None:
                return
            comparison, path, history = saved(record, content, settings, network, key, named["history"])
            yield {
                out.picture: on_page(record.image),
                out.status: status_html(record, ending(record, state)),
                out.comparison: comparison,
                out.download: gr.update(value=path, visible=True),
                out.history: history,
                out.history_state: history,
            }


def reserved_mask(value: dict | None, shape: tuple[int, int]) -> np.ndarray | None:
    """The mask editor's layers made into the mask, their decoding (each at its full size) reserved meanwhile."""
    layers = (value or {}).get("layers") or []
    with BUDGET.reserve(upload_bytes(*layers), "this run"):
        return decoded_mask(value, shape)


def checked_run(named: dict) -> tuple[np.ndarray, list[np.ndarray], Settings, tuple]:
    """The run's settings and its pictures, decoded at the sizes it uses, refused before any work where they ask
    more than this server allows; and the shapes its memory is reckoned from."""
    paintings = [named[name] for name in ("style", "second_style") if named[name] is not None]
    settings = settings_from_controls(named, two_styles=len(paintings) == 2)  # the style weight: Strength's
    hosting.check_side(settings.size)
    content, styles = checked_pictures(named["content"], paintings, settings)  # unless set by hand
    style_shapes = [style.shape[:2] for style in styles]
    hosting.check_budget(settings, content.shape[:2], style_shapes)
    return content, styles, settings, run_shapes(settings, content.shape[:2], style_shapes)


def previews(run_steps, claim: sessions.Claim, out: RunOutputs):
    """The run's pictures, one at most every PREVIEW_SECONDS, until it ends, Stop is pressed or this server's time
    limit is reached; returns its last record and why it stopped early ("" if it did not)."""
    record, shown_at, state = None, 0.0, ""
    try:
        for record in run_steps:
            if claim.stop.is_set():
                break
            if record.elapsed > hosting.MAX_SECONDS:
                state = (
                    f"Stopped at step {record.step}: this server's limit of "
                    f"{format_seconds(hosting.MAX_SECONDS)} per run was reached; the picture so far is kept."
                )
                break
            # Every step makes a record; the page gets one at most every PREVIEW_SECONDS.
            if not record.done and time.monotonic() - shown_at >= PREVIEW_SECONDS:
                shown_at = time.monotonic()
                yield {out.picture: on_page(record.image), out.status: status_html(record)}
    except LossNotFinite as error:  # keep the last picture whose loss was finite, as Stop would
        record, state = error.last, f"Stopped: {error}."
    finally:
        run_steps.close()
    return record, state


def on_page(picture: np.ndarray, side: int = PAGE_SIDE) -> np.ndarray:
    """A picture as the page shows it: a poster shrunk to side (its PNG download keeps every pixel)."""
    if max(picture.shape[:2]) <= side:
        return picture
    return images.to_uint8(images.resize_longer_side(picture.astype(np.float32) / 255.0, side))


def ending(record: Progress, state: str) -> str:
    """How the run ended, for its last status line."""
    if state:
        return state
    return (
        f"Stopped at step {record.step}: the picture so far is kept."
        if not record.done
        else f"Done: {record.settings.steps_text()}."
    )


def saved(
    record: Progress,
    content: np.ndarray,
    settings: Settings,
    network: FeatureNetwork,
    key: str,
    history: list[str] | None,
) -> tuple[tuple[str, str], str, list[str]]:
    """The finished run's files in the session's folder: the before/after pair, the PNG, and the history with it."""
    after = on_page(record.image, COMPARISON_SIDE)
    before = images.to_uint8(images.resize(content, after.shape[:2]))
    comparison = (hosting.save_picture(before, key, "before"), hosting.save_picture(after, key, "after"))
    # The weights as steered; previewing every step was the page's business, not the picture's.
    path = hosting.save_result(
        record.image, record.settings.replace(preview_every=settings.preview_every), network, key
    )
    return comparison, path, hosting.add_to_history(path, history)


def make_steer(network: FeatureNetwork):
    def steer(
        strength,
        preset_name,
        normalize,
        style_from_strength,
        style_log,
        content_log,
        tv_log,
        content_layer=None,
        request: gr.Request = None,
    ):
        """Moving Strength or a weight during a run steers it from the next step; Strength moves the style weight
        unless it is set by hand, as it does for a run (settings_from_controls), at the run's content layer."""
        if style_from_strength:
            with page_errors():
                style_log = strength_style_log(strength, preset_name, normalize, network, content_layer)
        sessions.steer(style_log, content_log, tv_log, request)

    return steer


def steer_weights(style_log: float, content_log: float, tv_log: float, request: gr.Request = None) -> None:
    """The API's way to set a running run's three weights (log10) by hand, from its next step."""
    sessions.steer(style_log, content_log, tv_log, request)


def make_preset_controls(network: FeatureNetwork):
    def preset_controls(name: str, size):
        """Choosing a preset moves the controls it sets (its time: for the size chosen), and the weights (seed's are
        raw, the others normalised; the style weight back to Strength's)."""
        values = preset_values(name, network)
        seconds = PRESET_CONTROLS.index("seconds")
        values[seconds] = size_seconds(name, size, values[seconds])
        return values

    return preset_controls


def layer_weights_text(emphasis: float, network: FeatureNetwork) -> str:
    weights = style_layer_weights(network.style_layers, emphasis)
    return "Relative style layer weights: " + ", ".join(f"{name} {value:.2f}" for name, value in weights.items())


def make_restore(network: FeatureNetwork, picture: Preview, status: gr.HTML, controls: Controls):
    def restore(source):
        """A result PNG (dropped in, or picked from the history) brings back its picture and settings."""
        if source is None:
            return gr.skip()
        path = source if isinstance(source, str) else source[0]
        with page_errors("this result"):
            settings, extra = settings_from_png(path)  # checks the header before reading anything
            with BUDGET.reserve(upload_bytes(path), "this result"):
                restored = images.to_uint8(images.load_image(path, "result", SIZE_SLIDER[1]))
        values, notes = clamped(controls_from_settings(settings, network))
        # The file name and the recipe's text come from strangers: escaped, as this goes into gr.HTML.
        message = (
            f"Restored the settings of {html.escape(Path(path).name)}"
            + (f" (made with {html.escape(str(extra['network']))})" if extra.get("network") else "")
            + "."
            + (f" Outside this page's sliders, so changed: {', '.join(notes)}." if notes else "")
        )
        return {picture: restored, status: message_html(message)} | {controls[name]: values[name] for name in values}

    return restore


def mask_background(content):
    """The mask editor shows the content photo to paint on."""
    return None if content is None else {"background": content, "layers": [], "composite": None}


def optimize_tab(network: FeatureNetwork, content: Upload, style: Upload) -> None:
    """The Optimize tab's components, wired to the shared uploads and to one already-loaded network."""
    with gr.Tab("Optimize (Gatys)"):
        controls = Controls(controls_from_settings(preset(DEFAULT_PRESET), network))
        history_state = gr.State([])
        picture = Preview(label="Picture", interactive=False, height=420, buttons=["fullscreen"], elem_id="output")
        status = gr.HTML(message_html("Ready."))
        with gr.Row():
            run_button = gr.Button("Stylize", variant="primary")
            stop_button = gr.Button("Stop", variant="stop")
        with gr.Row():
            controls.place("preset_name", "strength", "seconds", "size")
        second_style = style_and_colour(controls, network)
        mask_editor = paint_where(content)
        advanced(controls)
        out = RunOutputs(
            picture, status, *results_row(network, controls, picture, status, history_state), history_state
        )
        wire_controls(controls, network)
        inputs = dict(
            content=content,
            style=style,
            second_style=second_style,
            mask_value=mask_editor,
            history=history_state,
            **controls,
        )
        run = make_run(network, out)
        run_button.click(
            run,
            [inputs[name] for name in RUN_INPUTS],
            list(out),
            show_progress="hidden",
            api_name="stylize",
            validator=sessions.make_claim(run),
            **OPTIMIZE_SLOT,
        )
        stop_button.click(sessions.stop, None, None, **PAGE_ONLY)


def style_and_colour(controls: Controls, network: FeatureNetwork) -> Upload:
    """The Style and colour section: a second painting to blend in, colours, style scale and layer emphasis (with
    the layer weights it gives); returns the second painting's upload."""
    with gr.Accordion("Style and colour", open=False):
        with gr.Row():
            second_style = picture_upload("Second style (optional)", 200)
            with gr.Column():
                controls.place("blend", "colors", "style_scale", "layer_emphasis")
                layer_text = gr.Markdown(layer_weights_text(controls.initial["layer_emphasis"], network))
    controls["layer_emphasis"].change(
        lambda emphasis: layer_weights_text(emphasis, network), controls["layer_emphasis"], layer_text, **PAGE_ONLY
    )
    return second_style


def paint_where(content: Upload) -> MaskEditor:
    """The Paint where the style goes section: a mask editor over the content photo; returns it."""
    with gr.Accordion("Paint where the style goes", open=False):
        mask_editor = MaskEditor(
            label="Paint over the photo; unpainted areas stay as they are",
            type="numpy",
            image_mode="RGBA",
            sources=[],
            height=420,
            brush=gr.Brush(colors=["#ff3b30"], default_size=40),
        )
    content.change(mask_background, content, mask_editor, **PAGE_ONLY)
    return mask_editor


def advanced(controls: Controls) -> None:
    """The Advanced section: the loss weights, exact steps, optimizer and precision, start and seed."""
    with gr.Accordion("Advanced", open=False):
        with gr.Row():  # Strength sets the style weight unless it is set by hand; all of them steer a run too
            controls.place("style_from_strength", "style_log", "content_log", "tv_log")
        with gr.Row():  # time is the usual choice; exact steps override it, and replay a restored result
            controls.place("exact_steps", "steps", "coarse_steps", "scale_steps")
        with gr.Row():
            controls.place("optimizer", "precision", "start_size", "tile_steps", "tile_detail")
        with gr.Row():
            controls.place("init", "seed", "normalize", "content_layer")


def wire_controls(controls: Controls, network: FeatureNetwork) -> None:
    """The controls' own events: a preset moves the controls it sets, Strength and the weights steer a running run,
    and moving a time or a step slider says which of them the next run follows."""
    controls["preset_name"].input(
        make_preset_controls(network),
        [controls["preset_name"], controls["size"]],
        [controls[name] for name in PRESET_CONTROLS],
        **PAGE_ONLY,
    )
    # A poster's tiles take time of their own: a new size brings the preset's time for that size (preset_seconds).
    controls["size"].input(
        size_seconds, [controls["preset_name"], controls["size"], controls["seconds"]], controls["seconds"], **PAGE_ONLY
    )
    # Steering writes no weight back: the server resolves Strength into the style weight, as it does for a run.
    steer, steer_inputs = make_steer(network), [controls[name] for name in STEER_INPUTS]
    for name in ("strength", "style_from_strength", "content_log", "tv_log"):
        controls[name].input(
            steer,
            steer_inputs,
            None,
            queue=False,
            api_name="strength",
            api_visibility="public" if name == "strength" else "private",
        )
    # Moving the style weight sets it by hand: from the next step of a run, and for the next run (the box goes off).
    controls["style_log"].input(steer_weights, [controls[name] for name in WEIGHTS], None, **PAGE_ONLY)
    controls["style_log"].input(lambda: False, None, controls["style_from_strength"], **PAGE_ONLY)
    gr.api(steer_weights, api_name="steer", queue=False)
    # Choosing a time means time; moving a step slider means exact steps, from the sliders; a change of scales
    # leaves a restored result's per-scale steps behind.
    controls["seconds"].input(lambda: False, None, controls["exact_steps"], **PAGE_ONLY)
    for name in ("steps", "coarse_steps"):
        controls[name].input(lambda: (True, ""), None, [controls["exact_steps"], controls["scale_steps"]], **PAGE_ONLY)
    for name in ("start_size", "size"):
        controls[name].input(
            lambda: ("", "", ""),
            None,
            [controls["scale_steps"], controls["tile_steps"], controls["tile_detail"]],
            **PAGE_ONLY,
        )


def size_seconds(preset_name: str, size, seconds):
    """The time slider for a new size: the preset's time at that size, at most what this server allows (best's, at
    a slow server's measured pace, may be more); unchanged for a preset without one (seed)."""
    if PRESETS.get(preset_name, {}).get("seconds") is None or not isinstance(size, (int, float)):
        return seconds
    return min(TIME_SLIDER[1], hosting.MAX_SECONDS, preset_seconds(preset_name, int(size)))


def results_row(
    network: FeatureNetwork, controls: Controls, picture: Preview, status: gr.HTML, history_state: gr.State
) -> tuple[gr.ImageSlider, gr.DownloadButton, gr.Gallery]:
    """Before/after, the download, the session's history and a drop zone for result PNGs; a result clicked in the
    history or dropped in brings back its picture and settings. Returns the comparison, download and history."""
    with gr.Row():
        comparison = gr.ImageSlider(label="Before / after", interactive=False, max_height=520)
        with gr.Column():
            download = gr.DownloadButton("Download PNG (lossless, with settings)", visible=False)
            history = gr.Gallery(
                label="This session's results (click to restore)",
                columns=4,
                height=220,
                allow_preview=False,
                elem_id="history",
            )
            restore_file = ResultFile(
                label="Drop a result PNG to restore its settings", file_types=[".png"], height=100
            )
    restore = make_restore(network, picture, status, controls)
    outputs = [picture, status, *(controls[name] for name in CONTROL_NAMES)]
    restore_file.upload(restore, restore_file, outputs, api_name="restore", **LIGHT_SLOT)

    def restore_from_history(paths: list[str], event: gr.SelectData):
        return restore(paths[event.index])

    history.select(restore_from_history, history_state, outputs, api_visibility="private", **LIGHT_SLOT)
    return comparison, download, history
