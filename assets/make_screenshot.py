"""Screenshot of the app mid-run for the README: the real offline network, the example pictures, headless Chromium.

    python -m assets.make_screenshot [--out assets/readme/screenshot.png] [--wait-steps 25]

Run from the repository root, as a module: app.py is not installed, the current folder is on the path.
"""

import argparse
import shutil
from pathlib import Path

import app
from studio import hosting
from stylize.gatys.loop import warm_up
from stylize.gatys.networks import load_network

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "assets" / "readme" / "screenshot.png"))
    parser.add_argument("--content", default=str(ROOT / "assets" / "content_landscape.png"))
    parser.add_argument("--style", default=str(ROOT / "assets" / "style_swirls.png"))
    parser.add_argument("--wait-steps", type=int, default=25, help="take the picture once this step is shown")
    arguments = parser.parse_args()
    from playwright.sync_api import sync_playwright

    network = load_network("auto")
    warm_up(network)  # as app.main does: the run's time is all steps
    demo = app.build_app(network)
    demo.queue(max_size=hosting.QUEUE_SIZE, default_concurrency_limit=1)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, css=app.CSS, theme=app.THEME)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1180}, device_scale_factor=1)
        page.goto(url)
        page.locator("#content-upload input[type=file]").set_input_files(arguments.content)
        page.locator("#style-upload input[type=file]").set_input_files(arguments.style)
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Stylize").click()
        page.wait_for_function(
            """(steps) => { const m = document.querySelector('.run-status')?.innerText.match(/Step (\\d+) (\\/|of)/);
                            return m && Number(m[1]) >= steps; }""",
            arg=arguments.wait_steps,
            timeout=300_000,
        )
        page.evaluate("window.scrollTo(0, 0)")  # the click scrolls the page; show it from the title
        page.wait_for_timeout(300)
        page.screenshot(path=arguments.out)
        page.get_by_role("button", name="Stop").click()
        browser.close()
    demo.close()
    print(f"Wrote {arguments.out}")


if __name__ == "__main__":
    main()
