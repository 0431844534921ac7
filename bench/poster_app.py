"""A poster through the real page: headless Chromium uploads a photo and a painting, sets the size, presses Stylize,
watches the previews stream, and downloads the PNG; prints what a person would see and get.

    python bench/poster_app.py [--size 4096] [--preset balanced] [--photo tubingen] [--painting starry_night]
                               [--shots DIR]

It prints the time from the click to the last picture and the budget the page set for the size, how many different
previews streamed and when the first came, the status line at the end, and the download's pixels, bytes and recipe
(the steps of the base and of each tile). It reads ../shared/images and needs Debian's chromium and Playwright.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "images"
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--preset", default="balanced", help="chosen on the page before the size")
    parser.add_argument("--photo", default="tubingen")
    parser.add_argument("--painting", default="starry_night")
    parser.add_argument("--shots", help="a folder for screenshots of the page mid-run and at the end")
    arguments = parser.parse_args()
    from PIL import Image
    from playwright.sync_api import sync_playwright

    import app
    from assets.make_screenshot import FLAGS
    from studio import hosting
    from stylize import transfer
    from stylize.core.recipe import settings_from_png
    from stylize.gatys.networks import load_network

    network = load_network("auto")
    transfer.warm_up(network)  # as app.main does: no run's time pays for tracing
    demo = app.build_app(network)
    demo.queue(max_size=hosting.QUEUE_SIZE, default_concurrency_limit=1)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, css=app.CSS, theme=app.THEME)
    shots = Path(arguments.shots) if arguments.shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(
        f"CPU: {cpu}; network {network.label}; {arguments.photo} x {arguments.painting} at {arguments.size} px, "
        f"{arguments.preset}"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1180}, accept_downloads=True)
        page.goto(url)
        page.locator("#content-upload input[type=file]").set_input_files(str(SHARED / f"{arguments.photo}.jpg"))
        page.locator("#style-upload input[type=file]").set_input_files(str(SHARED / f"{arguments.painting}.jpg"))
        if arguments.preset != "balanced":  # the page's default
            page.locator(".block", has_text="Preset").locator("input").first.click()
            page.get_by_role("option", name=arguments.preset, exact=True).click()
            page.wait_for_timeout(1000)
        size = page.locator(".block", has_text="Output size").locator("input[type=number]").first
        size.fill(str(arguments.size))
        size.press("Enter")
        page.wait_for_timeout(1500)  # the time slider follows the size
        budget = page.locator("#seconds input[type=number]").first.input_value()
        page.get_by_role("button", name="Stylize").click()
        clicked = time.monotonic()
        sources: dict[str, float] = {}
        mid_shot = False
        while time.monotonic() - clicked < 1200:
            source = page.evaluate("() => document.querySelector('#output img')?.getAttribute('src') ?? null")
            if source and source not in sources:
                sources[source] = time.monotonic() - clicked
            status = page.locator(".run-status").inner_text() if page.locator(".run-status").count() else ""
            if shots and not mid_shot and ("tile" in status.lower() or time.monotonic() - clicked > 40):
                page.screenshot(path=str(shots / "poster_mid_run.png"))
                mid_shot = True
            if page.get_by_role("button", name="Download PNG").first.is_visible():
                break
            page.wait_for_timeout(250)
        ended = time.monotonic() - clicked
        status = page.locator(".run-status").inner_text()
        if shots:
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shots / "poster_end.png"))
        with page.expect_download() as waiting:
            page.get_by_role("button", name="Download PNG").first.click()
        download = Path(tempfile.mkdtemp()) / waiting.value.suggested_filename
        waiting.value.save_as(download)  # the browser's own copy goes with it
        browser.close()
    demo.close()
    picture = Image.open(download)
    settings, _ = settings_from_png(download.read_bytes())
    times = sorted(sources.values())
    print(f"budget set by the page: {budget} s; click to download button: {ended:.1f} s")
    print(f"previews streamed: {len(sources)} different, the first after {times[0]:.1f} s" if times else "no preview")
    print(f"status at the end: {' '.join(status.split())}")
    print(
        f"download: {picture.width}x{picture.height} {picture.mode} PNG, {download.stat().st_size / 2**20:.1f} MiB; "
        f"recipe: {settings.steps_text()}"
    )


if __name__ == "__main__":
    main()
