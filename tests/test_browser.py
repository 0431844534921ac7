"""The real page in headless Chromium: upload, press Stylize, watch the picture change, press Stop."""

import shutil
import time

import numpy as np
import pytest
from PIL import Image

import app
from assets import make_screenshot

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not shutil.which("chromium"), reason="needs Debian's chromium (apt-get install chromium); .ci/run installs it"
)
FLAGS = make_screenshot.FLAGS  # the flags headless Chromium needs on a machine with a closed network


@pytest.fixture(scope="module")
def url(launch_app):
    with launch_app(css=app.CSS) as (_, address):  # the page's own styles: a server of its own
        yield address


@pytest.fixture(scope="module")
def uploads(tmp_path_factory, content, style):
    folder = tmp_path_factory.mktemp("browser")
    Image.fromarray((content * 255).astype(np.uint8)).resize((320, 240)).save(folder / "photo.png")
    Image.fromarray((style * 255).astype(np.uint8)).resize((256, 256)).save(folder / "painting.png")
    return folder


def output_source(page) -> str | None:
    return page.evaluate("() => document.querySelector('#output img')?.getAttribute('src') ?? null")


def test_upload_stylize_watch_and_stop(url, uploads, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(url)
        page.locator("#content-upload input[type=file]").set_input_files(str(uploads / "photo.png"))
        page.locator("#style-upload input[type=file]").set_input_files(str(uploads / "painting.png"))
        page.wait_for_timeout(500)
        assert "VGG16" in page.locator("#network-line").inner_text()
        page.get_by_role("button", name="Stylize").click()

        sources, deadline = [], time.monotonic() + 90
        while time.monotonic() < deadline and len(set(s for s in sources if s)) < 3:
            sources.append(output_source(page))
            page.wait_for_timeout(200)
        assert len(set(s for s in sources if s)) >= 3, "the picture did not change step by step"
        assert "Step" in page.locator(".run-status").inner_text()
        page.screenshot(path=str(tmp_path / "mid-run.png"))

        page.get_by_role("button", name="Stop").click()
        page.wait_for_function(
            "() => document.querySelector('.run-status')?.innerText.includes('Stopped at step')", timeout=30_000
        )
        page.get_by_role("button", name="Download PNG (lossless, with settings)").wait_for(state="visible")
        # The stopped picture joins the history strip; clicking it brings its settings back.
        page.locator("#history button.thumbnail-item").first.click()
        page.wait_for_function(
            "() => document.querySelector('.run-status')?.innerText.includes('Restored')", timeout=10_000
        )
        # The page left the style weight to Strength, and the result's recipe kept it so.
        page.get_by_text("Advanced").click()
        assert page.locator("#style-from-strength input[type=checkbox]").is_checked()
        # A timed run's recipe holds the steps it took at each scale: restored, they are exact steps to replay.
        assert page.locator("#exact-steps input[type=checkbox]").is_checked()
        assert page.locator("#scale-steps").locator("textarea, input").first.input_value().strip()
        browser.close()
