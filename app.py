"""The Gradio studio: layout and wiring only; handlers live in studio/, the engine in stylize/."""

import os
import sys
from pathlib import Path

import gradio as gr

from studio import hosting, sessions
from studio.components import picture_upload
from studio.tabs.instant import instant_tab
from studio.tabs.optimize import optimize_tab
from studio.tabs.styles import styles_tab
from studio.tabs.video import video_tab
from studio.tabs.webcam import webcam_tab
from stylize.gatys.networks import FeatureNetwork, load_network
from stylize.transfer import warm_up

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
    """The whole page, wired to one already-loaded network: the shared uploads, then each tab (studio/)."""
    with gr.Blocks(
        title="Stylize — neural style transfer studio", delete_cache=(hosting.CACHE_SWEEP, hosting.CACHE_AGE)
    ) as demo:
        gr.Markdown(
            "# Stylize\nDrop in a photo and a painting, press **Stylize**, and watch the photo turn into "
            "the painting step by step."
        )
        gr.Markdown(
            f"**Network:** {network.label}" + (f" — {network.source}" if network.source else ""), elem_id="network-line"
        )
        gr.Markdown(hosting.limits_text(), elem_id="limits-line")
        with gr.Row(equal_height=True):  # shared by every tab: preview instantly, then refine with the optimizer
            content = picture_upload("Content photo", 280, "content-upload")
            style = picture_upload("Style painting", 280, "style-upload")
        with gr.Tabs():  # each tab's file (studio/tabs/) builds it and wires its events
            optimize_tab(network, content, style)
            instant_tab(content, style)
            builtin_spec, refresh = styles_tab(content)  # the webcam can use the built-in style chosen there
            webcam_tab(style, builtin_spec, refresh)
            video_tab(style, builtin_spec, refresh)  # a clip through the same fast networks
        pairs = example_pairs()
        if pairs:
            gr.Examples(pairs, inputs=[content, style], label="Examples (from assets/)", cache_examples=False)
        demo.unload(sessions.end_session)
    return demo


def main() -> None:
    network = load_network(os.environ.get("STYLIZE_NETWORK", "auto"))
    print(f"Network: {network.label}" + (f" — {network.note}" if network.note else ""), file=sys.stderr)
    compiled = warm_up(network)  # not in any visitor's time; best's time at a poster's size counts its tile pace
    print(f"Compiled the optimizer's step and timed a tile step in {compiled:.1f} s", file=sys.stderr)
    demo = build_app(network)
    hosting.configure_queue(demo)
    demo.launch(
        **hosting.launch_options(), css=CSS, theme=THEME, server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    )


if __name__ == "__main__":
    main()
