"""The Optimize tab's handlers: Stylize (validate, then stream Progress records), restore, presets and Strength."""

from __future__ import annotations

import contextlib
import html
import time
from pathlib import Path

import gradio as gr
import numpy as np

from stylize import images
from stylize.limits import BUDGET, decode_sides, run_bytes, run_shapes
from stylize.losses import style_layer_weights
from stylize.masks import mask_from_editor
from stylize.networks import FeatureNetwork
from stylize.objective import loss_weights
from stylize.optimize import LossNotFinite, stylize
from stylize.recipe import settings_from_png

from . import hosting, sessions
from .components import with_request
from .controls import (CONTROL_NAMES, SIZE_SLIDER, clamped, controls_from_settings, preset_values,
                       settings_from_controls, strength_style_log)
from .status import format_seconds, message_html, status_html

PREVIEW_SECONDS = 0.4  # the shortest time between two pictures sent to the page
RUN_INPUTS = ("content", "style", "second_style", "mask_value", "history", *CONTROL_NAMES)


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
        if named["content"] is None or named["style"] is None:
            raise gr.Error("Upload a content photo and a style painting first (or pick an example below).")
        try:
            settings = settings_from_controls(named, two_styles=named["second_style"] is not None)
            content_side, style_side = decode_sides(settings)  # twice the size used: big uploads stay cheap
            content = images.load_image(named["content"], "content image", content_side)
            hosting.check_budget(settings, content.shape[:2])  # before decoding the paintings, then with them
            styles = [images.load_image(named["style"], "style image", style_side)]
            if named["second_style"] is not None:
                styles.append(images.load_image(named["second_style"], "second style image", style_side))
            hosting.check_budget(settings, content.shape[:2], [style.shape[:2] for style in styles])
            shapes = run_shapes(settings, content.shape[:2], [style.shape[:2] for style in styles])
            held.enter_context(BUDGET.reserve(run_bytes(*shapes), "this run", shapes[0]))  # shared with other tabs
            mask = decoded_mask(named["mask_value"], content.shape[:2])
        except ValueError as error:
            raise gr.Error(hosting.public(error)) from None
        claim.wanted = claim.applied = loss_weights(settings, network)
        record, shown_at, state = None, 0.0, ""
        run_steps = stylize(content, styles, settings.replace(preview_every=1), network=network, mask=mask,
                            steer=claim.steering)
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
            state = f"Stopped at step {record.step}: the picture so far is kept." if not record.done else "Done."
        before = images.to_uint8(images.resize(content, record.image.shape[:2]))
        comparison = (hosting.save_picture(before, key, "before"), hosting.save_picture(record.image, key, "after"))
        # The weights as steered; previewing every step was the page's business, not the picture's.
        path = hosting.save_result(record.image, record.settings.replace(preview_every=settings.preview_every),
                                   network, key)
        history = hosting.add_to_history(path, named["history"])
        yield (record.image, status_html(record, state), comparison,
               gr.update(value=path, visible=True), history, history)

    return with_request(run, RUN_INPUTS)


def make_steer_strength(network: FeatureNetwork):
    def steer_strength(strength, preset_name, content_log, tv_log, normalize, request: gr.Request = None):
        """Strength moves the style weight (shown under Advanced) and, during a run, steers it from the next step."""
        try:
            style_log = strength_style_log(strength, preset_name, normalize, network)
        except ValueError as error:
            raise gr.Error(hosting.public(error)) from None
        sessions.steer(style_log, content_log, tv_log, request)
        return style_log

    return steer_strength


def make_preset_controls(network: FeatureNetwork):
    def preset_controls(name: str, strength: float):
        """Choosing a preset moves the controls it sets, and the weights (seed's are raw, the others normalised)."""
        return preset_values(name, strength, network)

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
