"""The real page in headless Chromium: upload, press Stylize, watch the picture change, press Stop; a clip in the
Video tab streams its frames and ends in a video that plays."""

import shutil
import time

import numpy as np
import pytest
from PIL import Image

import app
from assets import make_screenshot

from clips import make_clip

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


def live_frame(page) -> str | None:
    return page.evaluate("() => document.querySelector('#video-live img')?.getAttribute('src') ?? null")


def test_a_clip_streams_its_frames_and_ends_in_a_video_that_plays(url, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    from stylize.video import clip as clip_module

    fused = clip_module.fused_frames

    def paced(*arguments, **options):
        # The stand-in network stylises this small clip at 86 frames/s: done in 1.4 s, before a browser on a busy
        # core had drawn two of its frames. At least 40 ms a frame, it streams for 5 s on any machine.
        for frame in fused(*arguments, **options):
            time.sleep(0.04)
            yield frame

    monkeypatch.setattr(clip_module, "fused_frames", paced)
    clip = make_clip(tmp_path / "walk.mp4", 120, fps=24)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(url)
        page.get_by_role("tab", name="Video").click()
        page.locator("#clip-upload input[type=file]").set_input_files(str(clip))
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Stylize clip").click()

        frames, deadline = set(), time.monotonic() + 90
        while time.monotonic() < deadline and len(frames) < 2:
            frames.add(live_frame(page))
            frames.discard(None)
            page.wait_for_timeout(100)
        assert len(frames) >= 2, "the stylised frames did not stream"
        page.wait_for_function(
            "() => document.querySelector('#video-status')?.innerText.includes('Done:')", timeout=90_000
        )
        # The result plays: the browser read its header (duration) and has a frame to show.
        page.wait_for_function(
            """() => { const v = document.querySelector('#video-result video');
                       return v && v.readyState >= 2 && v.duration > 4; }""",
            timeout=30_000,
        )
        source = page.evaluate("() => document.querySelector('#video-result video').currentSrc")
        head = page.evaluate(
            "async (src) => Array.from(new Uint8Array(await (await fetch(src)).arrayBuffer()).slice(4, 8))", source
        )
        assert bytes(head) == b"ftyp"
        assert page.get_by_role("button", name="Download MP4 (H.264)").is_visible()
        browser.close()
