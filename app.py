"""The Gradio studio: layout and wiring only; the engine in stylize/ does the work and yields Progress records."""


import base64
import dataclasses
import json
import math
import os
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np

from stylize import images, settings as limits
from stylize.networks import FeatureNetwork, load_network
from stylize.optimize import Progress, loss_weights, stylize
from stylize.settings import DEFAULT_PRESET, PRESETS, Settings, preset

ASSETS = Path(__file__).parent / "assets"
RESULTS_DIR = Path(tempfile.gettempdir()) / "stylize-results"
QUEUE_SIZE = 8  # jobs waiting beyond the running one; more are turned away with a message
MAX_UPLOAD = f"{images.MAX_FILE_BYTES // 2**20}mb"
PREVIEW_SECONDS = 0.4  # the shortest time between two pictures sent to the page
SIZE_SLIDER = (128, 2048)  # the CPU-friendly part of Settings' range; the CLI takes the rest


class Upload(gr.Image):
    """An image upload handed over undecoded, so stylize.images checks size, mode and orientation with its messages."""

    is_template = True  # render as a plain gr.Image in the page

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.path is None and payload.url and payload.url.startswith("data:"):
            return base64.b64decode(payload.url.split(",", 1)[1])
        return payload.path


class Session:
    """Per-browser-session controls that a running job reads between steps (Stop)."""

    def __init__(self):
        self.stop = threading.Event()


_sessions: dict[str, Session] = {}  # only sessions with a run in progress


def session_key(request: gr.Request | None) -> str:
    return request.session_hash if request is not None else "default"


def status_html(record: Progress, state: str = "") -> str:
    """A progress bar and one status line: step / total, loss, seconds per step, time left."""
    pieces = [f"Step {record.step} / {record.total}"]
    if record.losses:
        pieces.append(f"loss {record.losses['total']:.4g}")
    if record.step:
        pieces.append(f"{record.elapsed / record.step:.2f} s/step")
    if 0 < record.fraction < 1 and not state:
        pieces.append(f"about {format_seconds(record.elapsed * (1 - record.fraction) / record.fraction)} left")
    pieces.append(f"{format_seconds(record.elapsed)} elapsed")
    percent = round(100 * (record.fraction if record.step else 0))
    text = " · ".join(pieces)
    return (f'<div class="run-status"><progress max="100" value="{percent}"></progress>'
            f'<span>{state + " " if state else ""}{text}</span></div>')


def format_seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


def settings_from_inputs(preset_name, style_log, content_log, tv_log, steps, size, optimizer, precision,
                         init, seed, style_scale) -> Settings:
    """Map the page's controls onto Settings; the weights' sliders are log10 of the weight."""
    return preset(preset_name, style_weight=10.0 ** style_log, content_weight=10.0 ** content_log,
                  tv_weight=10.0 ** tv_log, steps=int(steps), size=int(size), optimizer=optimizer,
                  precision=precision, init=init, seed=int(seed), style_scale=float(style_scale))


def save_result(picture: np.ndarray, settings: Settings, network: FeatureNetwork) -> str:
    """Write the finished picture as a lossless PNG that remembers its settings; returns the path."""
    path = RESULTS_DIR / time.strftime("stylized-%Y%m%d-%H%M%S.png")
    recipe = {"stylize:settings": json.dumps(dataclasses.asdict(settings)), "stylize:network": network.label}
    images.save_png(path, picture, recipe)
    return str(path)


def make_run(network: FeatureNetwork):
    """The Stylize button's handler: validate, then stream (picture, status, comparison, download) as it goes."""

    def run(content, style, preset_name, style_log, content_log, tv_log, steps, size, optimizer, precision, init,
            seed, style_scale, request: gr.Request = None):
        session = _sessions[session_key(request)] = Session()
        if content is None or style is None:
            raise gr.Error("Upload a content photo and a style painting first (or pick an example below).")
        try:
            settings = settings_from_inputs(preset_name, style_log, content_log, tv_log, steps, size, optimizer,
                                            precision, init, seed, style_scale)
            content_pixels = images.load_image(content, "content image")
            style_pixels = images.load_image(style, "style image")
        except ValueError as error:
            raise gr.Error(str(error)) from None
        record, shown_at = None, 0.0
        run_steps = stylize(content_pixels, style_pixels, settings.replace(preview_every=1), network=network)
        try:
            for record in run_steps:
                if session.stop.is_set():
                    break
                # Every step makes a record; the page gets one at most every PREVIEW_SECONDS.
                if not record.done and time.monotonic() - shown_at >= PREVIEW_SECONDS:
                    shown_at = time.monotonic()
                    yield record.image, status_html(record), gr.skip(), gr.skip()
        except ValueError as error:
            raise gr.Error(str(error)) from None
        finally:
            run_steps.close()
            _sessions.pop(session_key(request), None)
        if record is None:
            return
        stopped = not record.done
        before = images.to_uint8(images.resize(content_pixels, record.image.shape[:2]))
        path = save_result(record.image, settings, network)
        state = f"Stopped at step {record.step}: the picture so far is kept." if stopped else "Done."
        yield (record.image, status_html(record, state), (before, record.image),
               gr.update(value=path, visible=True))

    return run


def stop(request: gr.Request = None):
    session = _sessions.get(session_key(request))
    if session is not None:
        session.stop.set()


def preset_controls(name: str):
    """Choosing a preset moves the controls it sets."""
    chosen = preset(name)
    return chosen.steps, chosen.optimizer, chosen.precision


def example_pairs() -> list[list[str]]:
    """Every content_* image with every style_* image in assets/ (a deployer may drop in their own)."""
    pictures = sorted(p for p in ASSETS.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    contents = [str(p) for p in pictures if p.name.startswith("content")]
    styles = [str(p) for p in pictures if p.name.startswith("style")]
    return [[c, s] for c in contents for s in styles]


CSS = """
.run-status { display: flex; flex-direction: column; gap: 4px; font-variant-numeric: tabular-nums; }
.run-status progress { width: 100%; height: 10px; accent-color: var(--color-accent); }
"""


def build_app(network: FeatureNetwork) -> gr.Blocks:
    """The whole page, wired to one already-loaded network."""
    defaults = preset(DEFAULT_PRESET)
    weights = loss_weights(defaults, network)
    with gr.Blocks(title="Stylize — neural style transfer studio") as demo:
        gr.Markdown("# Stylize\nDrop in a photo and a painting, press **Stylize**, and watch the photo turn into "
                    "the painting step by step.")
        gr.Markdown(f"**Network:** {network.label}" + (f" — {network.note}" if network.note else ""),
                    elem_id="network-line")
        with gr.Row(equal_height=True):
            content = Upload(label="Content photo", type="filepath", image_mode=None, height=280,
                             sources=["upload", "clipboard"], elem_id="content-upload")
            style = Upload(label="Style painting", type="filepath", image_mode=None, height=280,
                           sources=["upload", "clipboard"], elem_id="style-upload")
            output = gr.Image(label="Picture", interactive=False, height=280, buttons=["fullscreen"],
                              elem_id="output")
        status = gr.HTML("<div class='run-status'><span>Ready.</span></div>")
        with gr.Row():
            run_button = gr.Button("Stylize", variant="primary")
            stop_button = gr.Button("Stop", variant="stop")
        with gr.Row():
            preset_name = gr.Dropdown(list(PRESETS), value=DEFAULT_PRESET, label="Preset",
                                      info="quick ≈ 20 s, balanced < 1 min, best, seed = the original program")
            steps = gr.Slider(*limits.STEPS_RANGE, value=defaults.steps, step=1, label="Steps (at full size)")
            size = gr.Slider(*SIZE_SLIDER, value=defaults.size, step=16, label="Output size (longer side, px)")
        with gr.Row():
            style_log = gr.Slider(-5, 5, value=math.log10(weights.style), step=0.1, label="Style weight (log10)")
            content_log = gr.Slider(0, 8, value=math.log10(weights.content), step=0.1,
                                    label="Content weight (log10)")
            tv_log = gr.Slider(-3, 4, value=math.log10(weights.tv), step=0.1, label="Smoothness (TV weight, log10)")
        with gr.Accordion("Advanced", open=False):
            with gr.Row():
                optimizer = gr.Radio(list(limits.OPTIMIZERS), value=defaults.optimizer, label="Optimizer")
                precision = gr.Radio(list(limits.PRECISIONS), value=defaults.precision, label="Precision")
                init = gr.Radio(list(limits.INITS), value=defaults.init, label="Start from")
                seed = gr.Number(value=defaults.seed, precision=0, label="Seed (for noise)")
                style_scale = gr.Slider(*limits.STYLE_SCALE_RANGE, value=defaults.style_scale, step=0.05,
                                        label="Style scale (bigger strokes →)")
        with gr.Row():
            comparison = gr.ImageSlider(label="Before / after", interactive=False, max_height=520)
        download = gr.DownloadButton("Download PNG (lossless, with settings)", visible=False)
        pairs = example_pairs()
        if pairs:
            gr.Examples(pairs, inputs=[content, style], label="Examples (from assets/)", cache_examples=False)

        controls = [preset_name, style_log, content_log, tv_log, steps, size, optimizer, precision, init, seed,
                    style_scale]
        preset_name.change(preset_controls, preset_name, [steps, optimizer, precision], queue=False)
        run_button.click(make_run(network), [content, style, *controls], [output, status, comparison, download],
                         show_progress="hidden", concurrency_limit=1)
        stop_button.click(stop, None, None, queue=False)
    return demo


def main() -> None:
    network = load_network(os.environ.get("STYLIZE_NETWORK", "auto"))
    demo = build_app(network)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    demo.launch(max_file_size=MAX_UPLOAD, css=CSS, theme=gr.themes.Soft(),
                server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))


if __name__ == "__main__":
    main()
