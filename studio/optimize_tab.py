"""The Optimize tab: its components and events; Stylize (check, then stream Progress), restore, presets, steering."""

from __future__ import annotations

import contextlib
import html
import time
from pathlib import Path

import gradio as gr
import numpy as np

from stylize.core import images
from stylize.core.costs import run_bytes, run_shapes
from stylize.core.limits import BUDGET
from stylize.gatys.losses import style_layer_weights
from stylize.gatys.networks import FeatureNetwork
from stylize.gatys import loop as engine
from stylize.gatys.loop import LossNotFinite, checked_pictures
from stylize.transfer import stylize_pictures
from stylize.core.recipe import settings_from_png
from stylize.core.settings import DEFAULT_PRESET, preset
from stylize.gatys.weights import loss_weights

from . import hosting, sessions
from .components import MaskEditor, Preview, ResultFile, Upload, control_component, with_request
from .controls import (BY_NAME, CONTROL_NAMES, PRESET_CONTROLS, SIZE_SLIDER, clamped, controls_from_settings,
                       preset_values, settings_from_controls, strength_style_log)
from .masks import mask_from_editor
from .status import format_seconds, message_html, status_html
from .wiring import LIGHT_SLOT, OPTIMIZE_SLOT, PAGE_ONLY

PREVIEW_SECONDS = 0.4  # the shortest time between two pictures sent to the page
RUN_INPUTS = ("content", "style", "second_style", "mask_value", "history", *CONTROL_NAMES)
# What steering a run reads: Strength sets the style weight unless it is set by hand.
STEER_INPUTS = ("strength", "preset_name", "normalize", "style_from_strength", "style_log", "content_log", "tv_log")


def make_run(network: FeatureNetwork):
    """The Stylize button's handler: validate, then stream (picture, status, comparison, download, history)."""

    def run(*inputs):
        *values, request = inputs
        yield from stream(sessions.session_key(request), hosting.client_address(request),
                          getattr(request, "session_hash", None), dict(zip(RUN_INPUTS, values)))

    def stream(key, client, session_hash, named):
        # Every way out releases the claim: finishing, an error, a refusal, Stop, the page closing (close()).
        claim = sessions.runs.start(client, session_hash, None)
        if claim is None:  # Stop was pressed while this run waited: give the slot straight back
            yield gr.skip(), message_html("Cancelled before it started."), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        try:
            with contextlib.ExitStack() as held:  # what optimize reserves is given back however it ends
                yield from optimize(claim, key, named, held)
        finally:
            sessions.runs.finish(claim)

    def optimize(claim, key, named, held):
        started = engine.clock()  # the run's time counts from here: its turn came, the uploads not yet decoded
        if named["content"] is None or named["style"] is None:
            raise gr.Error("Upload a content photo and a style painting first (or pick an example below).")
        try:
            paintings = [named[name] for name in ("style", "second_style") if named[name] is not None]
            settings = settings_from_controls(named, two_styles=len(paintings) == 2)  # the style weight: Strength's
            content, styles = checked_pictures(named["content"], paintings, settings)  # unless set by hand
            hosting.check_budget(settings, content.shape[:2], [style.shape[:2] for style in styles])
            shapes = run_shapes(settings, content.shape[:2], [style.shape[:2] for style in styles])
            held.enter_context(BUDGET.reserve(run_bytes(*shapes), "this run", shapes[0]))  # shared with other tabs
            mask = decoded_mask(named["mask_value"], content.shape[:2])
        except ValueError as error:
            raise gr.Error(hosting.public(error)) from None
        claim.wanted = claim.applied = loss_weights(settings, network)
        record, shown_at, state = None, 0.0, ""
        run_steps = stylize_pictures(content, styles, settings.replace(preview_every=1), network=network, mask=mask,
                                     steer=claim.steering, started=started)
        try:
            for record in run_steps:
                if claim.stop.is_set():
                    break
                if record.elapsed > hosting.MAX_SECONDS:
                    state = (f"Stopped at step {record.step}: this server's limit of "
                             f"{format_seconds(hosting.MAX_SECONDS)} per run was reached; the picture so far is kept.")
                    break
                # Every step makes a record; the page gets one at most every PREVIEW_SECONDS.
                if not record.done and time.monotonic() - shown_at >= PREVIEW_SECONDS:
                    shown_at = time.monotonic()
                    yield record.image, status_html(record), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        except LossNotFinite as error:  # keep the last picture whose loss was finite, as Stop would
            record, state = error.last, f"Stopped: {error}."
        except ValueError as error:
            raise gr.Error(hosting.public(error)) from None
        except MemoryError:
            raise gr.Error("this run ran out of memory: choose a smaller size or style scale") from None
        finally:
            run_steps.close()
        if record is None:
            return
        if not state:
            state = (f"Stopped at step {record.step}: the picture so far is kept." if not record.done
                     else f"Done: {record.settings.steps_text()}.")
        before = images.to_uint8(images.resize(content, record.image.shape[:2]))
        comparison = (hosting.save_picture(before, key, "before"), hosting.save_picture(record.image, key, "after"))
        # The weights as steered; previewing every step was the page's business, not the picture's.
        path = hosting.save_result(record.image, record.settings.replace(preview_every=settings.preview_every),
                                   network, key)
        history = hosting.add_to_history(path, named["history"])
        yield (record.image, status_html(record, state), comparison, gr.update(value=path, visible=True), history,
               history)

    return with_request(run, RUN_INPUTS)


def make_steer(network: FeatureNetwork):
    def steer(strength, preset_name, normalize, style_from_strength, style_log, content_log, tv_log,
              request: gr.Request = None):
        """Moving Strength or a weight during a run steers it from the next step; Strength moves the style weight
        unless it is set by hand, as it does for a run (settings_from_controls)."""
        if style_from_strength:
            try:
                style_log = strength_style_log(strength, preset_name, normalize, network)
            except ValueError as error:
                raise gr.Error(hosting.public(error)) from None
        sessions.steer(style_log, content_log, tv_log, request)

    return steer


def steer_style_by_hand(style_log, content_log, tv_log, request: gr.Request = None) -> bool:
    """Moving the style weight sets it by hand: from the next step of a run, and for the next run (the box goes off)."""
    sessions.steer(style_log, content_log, tv_log, request)
    return False


def steer_weights(style_log: float, content_log: float, tv_log: float, request: gr.Request = None) -> None:
    """The API's way to set a running run's three weights (log10) by hand, from its next step."""
    sessions.steer(style_log, content_log, tv_log, request)


def make_preset_controls(network: FeatureNetwork):
    def preset_controls(name: str):
        """Choosing a preset moves the controls it sets, and the weights (seed's are raw, the others normalised;
        the style weight back to Strength's)."""
        return preset_values(name, network)

    return preset_controls


def layer_weights_text(emphasis: float, network: FeatureNetwork) -> str:
    weights = style_layer_weights(network.style_layers, emphasis)
    return "Relative style layer weights: " + ", ".join(f"{name} {value:.2f}" for name, value in weights.items())


def make_restore(network: FeatureNetwork):
    def restore(source):
        """A result PNG (dropped in, or picked from the history) brings back its picture and settings."""
        if source is None:
            return [gr.skip()] * (len(CONTROL_NAMES) + 2)
        path = source if isinstance(source, str) else source[0]
        try:
            settings, extra = settings_from_png(path)  # checks the header before reading anything
            picture = images.to_uint8(images.load_image(path, "result", SIZE_SLIDER[1]))
        except ValueError as error:
            raise gr.Error(hosting.public(error)) from None
        values, notes = clamped(controls_from_settings(settings, network))
        # The file name and the recipe's text come from strangers: escaped, as this goes into gr.HTML.
        message = (f"Restored the settings of {html.escape(Path(path).name)}"
                   + (f" (made with {html.escape(str(extra['network']))})" if extra.get("network") else "") + "."
                   + (f" Outside this page's sliders, so changed: {', '.join(notes)}." if notes else ""))
        return [picture, message_html(message), *values.values()]

    return restore


def decoded_mask(value: dict | None, shape: tuple[int, int]):
    """The mask editor's layers (undecoded, from MaskEditor) decoded inside the run's slot, one at a time and each
    straight to the photo's size, then made into the mask."""
    layers = []
    for index, source in enumerate((value or {}).get("layers") or []):
        if source is None:
            continue
        with images.open_image(source, f"mask layer {index}") as opened:
            if "A" not in opened.getbands() and "transparency" not in opened.info:
                # Without alpha, black paint and untouched canvas look the same: guessing would lose strokes.
                raise ValueError(f"mask layer {index} has no transparency but must be RGBA: paint it again")
            layers.append(np.asarray(opened.convert("RGBA").resize((shape[1], shape[0]))))
    return mask_from_editor({"layers": layers}, shape)


def mask_background(content):
    """The mask editor shows the content photo to paint on."""
    return None if content is None else {"background": content, "layers": [], "composite": None}


def optimize_tab(network: FeatureNetwork, content: Upload, style: Upload) -> None:
    """The Optimize tab's components, wired to the shared uploads and to one already-loaded network."""
    defaults = preset(DEFAULT_PRESET)
    values = controls_from_settings(defaults, network)
    controls = {}  # the controls by name, made from studio/controls.py's table where they sit

    def place(*names: str) -> None:
        for name in names:
            controls[name] = control_component(BY_NAME[name], values[name])

    history_state = gr.State([])
    output = Preview(label="Picture", interactive=False, height=420, buttons=["fullscreen"], elem_id="output")
    status = gr.HTML(message_html("Ready."))
    with gr.Row():
        run_button = gr.Button("Stylize", variant="primary")
        stop_button = gr.Button("Stop", variant="stop")
    with gr.Row():
        place("preset_name", "strength", "seconds", "size")
    with gr.Accordion("Style and colour", open=False):
        with gr.Row():
            second_style = Upload(label="Second style (optional)", type="filepath", image_mode=None, height=200,
                                  sources=["upload", "clipboard"])
            with gr.Column():
                place("blend", "colors", "style_scale", "layer_emphasis")
                layer_text = gr.Markdown(layer_weights_text(defaults.layer_emphasis, network))
    with gr.Accordion("Paint where the style goes", open=False):
        mask_editor = MaskEditor(label="Paint over the photo; unpainted areas stay as they are", type="numpy",
                                 image_mode="RGBA", sources=[], height=420,
                                 brush=gr.Brush(colors=["#ff3b30"], default_size=40))
    with gr.Accordion("Advanced", open=False):
        with gr.Row():  # Strength sets the style weight unless it is set by hand; all of them steer a run too
            place("style_from_strength", "style_log", "content_log", "tv_log")
        with gr.Row():  # time is the usual choice; exact steps override it, and replay a restored result
            place("exact_steps", "steps", "coarse_steps", "scale_steps")
        with gr.Row():
            place("optimizer", "precision", "start_size")
        with gr.Row():
            place("init", "seed", "normalize")
    with gr.Row():
        comparison = gr.ImageSlider(label="Before / after", interactive=False, max_height=520)
        with gr.Column():
            download = gr.DownloadButton("Download PNG (lossless, with settings)", visible=False)
            history = gr.Gallery(label="This session's results (click to restore)", columns=4, height=220,
                                 allow_preview=False, elem_id="history")
            restore_file = ResultFile(label="Drop a result PNG to restore its settings", file_types=[".png"],
                                      height=100)

    inputs = dict(content=content, style=style, second_style=second_style, mask_value=mask_editor,
                  history=history_state, **controls)
    controls["preset_name"].input(make_preset_controls(network), controls["preset_name"],
                                  [controls[name] for name in PRESET_CONTROLS], **PAGE_ONLY)
    controls["layer_emphasis"].change(lambda e: layer_weights_text(e, network), controls["layer_emphasis"],
                                      layer_text, **PAGE_ONLY)
    content.change(mask_background, content, mask_editor, **PAGE_ONLY)
    # Steering writes no weight back: the server resolves Strength into the style weight, as it does for a run.
    steer, steer_inputs = make_steer(network), [controls[name] for name in STEER_INPUTS]
    for name in ("strength", "style_from_strength", "content_log", "tv_log"):
        controls[name].input(steer, steer_inputs, None, queue=False, api_name="strength",
                             api_visibility="public" if name == "strength" else "private")
    weights = [controls[name] for name in ("style_log", "content_log", "tv_log")]
    controls["style_log"].input(steer_style_by_hand, weights, controls["style_from_strength"], **PAGE_ONLY)
    gr.api(steer_weights, api_name="steer", queue=False)
    # Choosing a time means time; moving a step slider means exact steps, from the sliders; a change of scales
    # leaves a restored result's per-scale steps behind.
    controls["seconds"].input(lambda: False, None, controls["exact_steps"], **PAGE_ONLY)
    for name in ("steps", "coarse_steps"):
        controls[name].input(lambda: (True, ""), None, [controls["exact_steps"], controls["scale_steps"]], **PAGE_ONLY)
    for name in ("start_size", "size"):
        controls[name].input(lambda: "", None, controls["scale_steps"], **PAGE_ONLY)
    run = make_run(network)
    run_button.click(run, [inputs[name] for name in RUN_INPUTS],
                     [output, status, comparison, download, history, history_state], show_progress="hidden",
                     api_name="stylize", validator=sessions.make_claim(run), **OPTIMIZE_SLOT)
    stop_button.click(sessions.stop, None, None, **PAGE_ONLY)
    restore, ordered = make_restore(network), [controls[name] for name in CONTROL_NAMES]
    restore_file.upload(restore, restore_file, [output, status, *ordered], api_name="restore", **LIGHT_SLOT)

    def restore_from_history(paths: list[str], event: gr.SelectData):
        return restore(paths[event.index])

    history.select(restore_from_history, [history_state], [output, status, *ordered], api_visibility="private",
                   **LIGHT_SLOT)
