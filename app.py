"""The Gradio studio: layout and wiring only; handlers live in studio/, the engine in stylize/."""

import os
import sys
from pathlib import Path

import gradio as gr

from stylize.networks import FeatureNetwork, load_network
from stylize.settings import DEFAULT_PRESET, preset
from studio import fast_tabs, hosting, sessions
from studio.components import Frame, MaskEditor, Preview, ResultFile, Upload, control_component
from studio.controls import BY_NAME, CONTROL_NAMES, PRESET_CONTROLS, SIZE_SLIDER, controls_from_settings
from studio.optimize_tab import (RUN_INPUTS, layer_weights_text, make_preset_controls, make_restore, make_run,
                                 make_steer_strength, mask_background)
from studio.status import message_html

ASSETS = Path(__file__).parent / "assets"
THEME = gr.themes.Soft()
CSS = """
.run-status { display: flex; flex-direction: column; gap: 4px; font-variant-numeric: tabular-nums; }
.run-status progress { width: 100%; height: 10px; accent-color: var(--color-accent); }
"""


def example_pairs() -> list[list[str]]:
    """Every content_* image with every style_* image in assets/ (a deployer may drop in their own)."""
    pictures = sorted(p for p in ASSETS.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    contents = [str(p) for p in pictures if p.name.startswith("content")]
    styles = [str(p) for p in pictures if p.name.startswith("style")]
    return [[c, s] for c in contents for s in styles]


def build_app(network: FeatureNetwork) -> gr.Blocks:
    """The whole page, wired to one already-loaded network."""
    defaults = preset(DEFAULT_PRESET)
    values = controls_from_settings(defaults, network)
    controls = {}  # the Optimize tab's controls by name, made from studio/controls.py's table where they sit

    def place(*names: str) -> None:
        for name in names:
            controls[name] = control_component(BY_NAME[name], values[name])

    with gr.Blocks(title="Stylize — neural style transfer studio",
                   delete_cache=(hosting.CACHE_SWEEP, hosting.CACHE_AGE)) as demo:
        gr.Markdown("# Stylize\nDrop in a photo and a painting, press **Stylize**, and watch the photo turn into "
                    "the painting step by step.")
        note = hosting.public_note(network)
        gr.Markdown(f"**Network:** {network.label}" + (f" — {note}" if note else ""), elem_id="network-line")
        gr.Markdown(hosting.limits_text(), elem_id="limits-line")
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
                status = gr.HTML(message_html("Ready."))
                with gr.Row():
                    run_button = gr.Button("Stylize", variant="primary")
                    stop_button = gr.Button("Stop", variant="stop")
                with gr.Row():
                    place("preset_name", "strength", "steps", "size")
                with gr.Accordion("Style and colour", open=False):
                    with gr.Row():
                        second_style = Upload(label="Second style (optional)", type="filepath", image_mode=None,
                                              height=200, sources=["upload", "clipboard"])
                        with gr.Column():
                            place("blend", "colors", "style_scale", "layer_emphasis")
                            layer_text = gr.Markdown(layer_weights_text(defaults.layer_emphasis, network))
                with gr.Accordion("Paint where the style goes", open=False):
                    mask_editor = MaskEditor(label="Paint over the photo; unpainted areas stay as they are",
                                             type="numpy", image_mode="RGBA", sources=[], height=420,
                                             brush=gr.Brush(colors=["#ff3b30"], default_size=40))
                with gr.Accordion("Advanced", open=False):
                    with gr.Row():  # Strength sets the style weight; these override it, and steer a run too
                        place("style_log", "content_log", "tv_log")
                    with gr.Row():
                        place("optimizer", "precision", "start_size", "coarse_steps")
                    with gr.Row():
                        place("init", "seed", "normalize")
                with gr.Row():
                    comparison = gr.ImageSlider(label="Before / after", interactive=False, max_height=520)
                    with gr.Column():
                        download = gr.DownloadButton("Download PNG (lossless, with settings)", visible=False)
                        history = gr.Gallery(label="This session's results (click to restore)", columns=4,
                                             height=220, allow_preview=False, elem_id="history")
                        restore_file = ResultFile(label="Drop a result PNG to restore its settings",
                                                  file_types=[".png"], height=100)
            with gr.Tab("Instant"):
                gr.Markdown(fast_tabs.INSTANT_ABOUT)
                with gr.Row():
                    strength = gr.Slider(0, 1, value=1.0, step=0.05, label="Style strength")
                    instant_style_size = gr.Slider(64, 512, value=256, step=32, label="Style image size (px)")
                    instant_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
                instant_button = gr.Button("Stylize instantly", variant="primary")
                instant_output = gr.Image(label="Instant picture", interactive=False, height=420, format="png")
                instant_status = gr.Markdown()
            with gr.Tab("Built-in & trained styles"):
                gr.Markdown(fast_tabs.BUILTIN_ABOUT)
                builtin_gallery = gr.Gallery(fast_tabs.builtin_thumbnails(), label="Built-in styles (click to choose)",
                                             columns=9, height="auto", allow_preview=False, elem_id="builtin-gallery")
                with gr.Row():
                    builtin_spec = gr.Textbox("0", label="Built-in style or blend",
                                              info="a number 0-25, or weights like 3:0.6, 12:0.4")
                    builtin_strength = gr.Slider(0, 1, value=1.0, step=0.05, label="Style strength (pixel blend)")
                    builtin_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
                builtin_button = gr.Button("Apply built-in style", variant="primary")
                gr.Markdown("**Your trained styles** (`python -m stylize.cli.train`):")
                trained_info = gr.Markdown(fast_tabs.trained_note())
                with gr.Row():
                    choices = fast_tabs.trained_choices()
                    # Custom values: the list changes as styles are trained; apply_trained checks the name.
                    trained = gr.Dropdown(choices, value=choices[0] if choices else None, label="Trained style",
                                          allow_custom_value=True)
                    trained_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
                    refresh = gr.Button("Refresh")
                trained_button = gr.Button("Apply", variant="primary")
                trained_output = gr.Image(label="Picture", interactive=False, height=420, format="png")
                trained_status = gr.Markdown()
            with gr.Tab("Webcam"):
                gr.Markdown(fast_tabs.WEBCAM_ABOUT)
                with gr.Row():
                    webcam_choice = gr.Dropdown([fast_tabs.BUILTIN, fast_tabs.INSTANT, *choices],
                                                value=fast_tabs.BUILTIN, label="Network", allow_custom_value=True)
                    webcam_strength = gr.Slider(0, 1, value=1.0, step=0.05, label="Style strength")
                with gr.Row():
                    webcam = Frame(sources=["webcam"], streaming=True, label="Camera", height=320)
                    webcam_output = Preview(label="Stylized", interactive=False, height=320, streaming=True)
        pairs = example_pairs()
        if pairs:
            gr.Examples(pairs, inputs=[content, style], label="Examples (from assets/)", cache_examples=False)

        ordered = [controls[name] for name in CONTROL_NAMES]
        inputs = dict(content=content, style=style, second_style=second_style, mask_value=mask_editor,
                      history=history_state, **controls)
        # Public endpoints have names; page-only events are private (not callable by API clients). The
        # optimization has its own slot, so Instant, trained styles and the webcam never wait behind it.
        page_only = dict(queue=False, api_visibility="private")
        controls["preset_name"].input(make_preset_controls(network), [controls["preset_name"], controls["strength"]],
                                      [controls[name] for name in PRESET_CONTROLS], **page_only)
        controls["layer_emphasis"].change(lambda e: layer_weights_text(e, network), controls["layer_emphasis"],
                                          layer_text, **page_only)
        content.change(mask_background, content, mask_editor, **page_only)
        weights = [controls["style_log"], controls["content_log"], controls["tv_log"]]
        for index, slider in enumerate(weights):
            slider.input(sessions.steer, weights, None, queue=False, api_name="steer",
                         api_visibility="public" if index == 0 else "private")
        controls["strength"].input(make_steer_strength(network),
                                   [controls[name] for name in ("strength", "preset_name", "content_log", "tv_log",
                                                                "normalize")],
                                   controls["style_log"], queue=False, api_name="strength")
        run = make_run(network)
        run_button.click(run, [inputs[name] for name in RUN_INPUTS],
                         [output, status, comparison, download, history, history_state], show_progress="hidden",
                         concurrency_limit=1, concurrency_id="optimize", api_name="stylize",
                         validator=sessions.make_claim(run))
        stop_button.click(sessions.stop, None, None, **page_only)
        restore = make_restore(network)
        # Restoring decodes a PNG: through the queue, in a light slot of its own.
        restore_file.upload(restore, restore_file, [output, status, *ordered], api_name="restore",
                            concurrency_limit=2, concurrency_id="light")

        def restore_from_history(paths: list[str], event: gr.SelectData):
            return restore(paths[event.index])

        history.select(restore_from_history, [history_state], [output, status, *ordered], api_visibility="private",
                       concurrency_limit=2, concurrency_id="light")
        fast_slot = dict(concurrency_limit=1, concurrency_id="instant")
        instant_button.click(fast_tabs.instant, [content, style, strength, instant_style_size, instant_size],
                             [instant_output, instant_status], api_name="instant", **fast_slot)
        refresh.click(fast_tabs.refresh_trained, None, [trained, trained_info, webcam_choice], **page_only)
        trained_button.click(fast_tabs.apply_trained, [content, trained, trained_size],
                             [trained_output, trained_status], api_name="apply_trained", **fast_slot)
        builtin_gallery.select(fast_tabs.pick_builtin, None, builtin_spec, **page_only)
        builtin_button.click(fast_tabs.apply_builtin, [content, builtin_spec, builtin_strength, builtin_size],
                             [trained_output, trained_status], api_name="builtin", **fast_slot)
        webcam.stream(fast_tabs.webcam_frame, [webcam, webcam_choice, style, webcam_strength, builtin_spec],
                      webcam_output, stream_every=0.1, time_limit=hosting.STREAM_SECONDS, concurrency_limit=2,
                      concurrency_id="webcam", api_name="webcam",
                      validator=sessions.make_stream_claim(fast_tabs.webcam_frame))
        demo.unload(sessions.end_session)
    return demo


def main() -> None:
    network = load_network(os.environ.get("STYLIZE_NETWORK", "auto"))
    print(f"Network: {network.label}" + (f" — {network.note}" if network.note else ""), file=sys.stderr)
    demo = build_app(network)
    hosting.configure_queue(demo)
    demo.launch(**hosting.launch_options(), css=CSS, theme=THEME,
                server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))


if __name__ == "__main__":
    main()
