"""The gate in front of Gradio, over raw HTTP: closed routes, no fetched URLs, typed inputs, each visitor's share of
uploads, sessions and queue places, and no server path in an error."""

import concurrent.futures
import io
import json
import threading
import time
import types
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from studio import gate, hosting
from studio.gate import Refusal, Shares, Visitors

META = {"_type": "gradio.FileData"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small(launch_app):
    """(demo, url) of a server whose visitors may start 3 uploads and 3 sessions: the shares, soon reached."""
    with launch_app(shares=Shares(uploads=3, upload_bytes=2**20, sessions=3)) as started:
        yield started


@pytest.fixture(scope="module")
def roomy(launch_app):
    with launch_app() as started:
        yield started


def fn_index(demo, api_name: str) -> int:
    return next(index for index, fn in demo.fns.items() if fn.api_name == api_name)


def post(url: str, route: str, body: dict) -> httpx.Response:
    return httpx.post(url + route.lstrip("/"), json=body, timeout=30)


def png_bytes(side: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((side, side, 3), 90, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "method, route",
    [
        ("GET", "/gradio_api/deep_link?session_hash=abc"),
        ("POST", "/gradio_api/process_recording"),
        ("GET", "/gradio_api/dev/reload"),
        ("POST", "/gradio_api/run/strength"),
        ("POST", "/gradio_api/run/steer"),
        ("GET", "/gradio_api/monitoring"),
        ("POST", "/gradio_api/vibe-edit"),
        ("GET", "/gradio_api/run-history/buckets"),
        ("GET", "/gradio_api/proxy=http://example.com/x"),
    ],
)
def test_routes_the_page_and_the_api_never_use_are_closed(roomy, method, route):
    reply = httpx.request(method, roomy[1] + route.lstrip("/"), json={"data": []}, timeout=10)
    assert reply.status_code == 404 and reply.json() == {"detail": "Not Found"}


def test_the_page_and_the_clients_routes_stay_open(roomy):
    for route in ("", "config", "gradio_api/info", "theme.css", "favicon.ico"):
        assert httpx.get(roomy[1] + route, timeout=10).status_code == 200, route


def test_an_upload_progress_for_an_unknown_id_is_refused_without_leaving_gradio_an_event(roomy):
    from gradio.routes import file_upload_statuses  # Gradio's one tracker: an asyncio.Event per id asked about

    started = time.monotonic()
    reply = httpx.get(roomy[1] + "gradio_api/upload_progress?upload_id=never-uploaded", timeout=10)
    assert reply.status_code == 404 and time.monotonic() - started < 6
    assert "never-uploaded" not in file_upload_statuses._signals


@pytest.mark.parametrize(
    "reference",
    [
        {"path": "https://example.com/big.png", "meta": META},
        {"path": "http://203.0.113.9/x.png", "meta": META, "url": "http://203.0.113.9/x.png"},
        {"path": "ftp://example.com/x.png"},
    ],
)
def test_a_file_named_by_a_url_is_refused_before_gradio_fetches_it(roomy, reference, monkeypatch):
    from gradio import processing_utils

    fetched = []
    monkeypatch.setattr(processing_utils, "ssrf_protected_download", lambda *a, **k: fetched.append(a))
    demo, url = roomy
    join = {"data": [reference, reference, 1.0, 256, 256], "fn_index": fn_index(demo, "instant"), "session_hash": "u1"}
    reply = post(url, "/gradio_api/queue/join", join)
    assert reply.status_code == 400 and "not named by a URL" in reply.json()["detail"]
    background = next(i for i, fn in demo.fns.items() if fn.name == "mask_background")  # unqueued, page-only
    reply = post(url, "/gradio_api/run/predict", {"data": [reference], "fn_index": background, "session_hash": "u2"})
    assert reply.status_code == 400 and fetched == []


def test_a_value_its_control_cannot_hold_is_refused_before_gradio_stores_it(roomy):
    demo, url = roomy
    strength = fn_index(demo, "strength")
    values = [5.0, "balanced", True, True, 1.0, 0.0, -1.0, "block5_conv2"]
    huge = list(range(30_000))  # a 90 kB body: today's Slider refuses it, but only after Gradio kept it
    for bad, line in [
        ([huge, *values[1:]], "must be a finite number"),
        ([50.0, *values[1:]], "must be from 0.0 to 10.0"),
        ([*values[:2], "yes", *values[3:]], "must be true or false"),
        ([values[0], "x" * 5000, *values[2:]], "at most 2000 characters"),
        ([*values[:7], "block9_conv9"], 'is "block9_conv9" but must be one of block5_conv2, block4_conv2'),
        (values[:3], "takes 8 inputs but the request has 3"),
    ]:
        reply = post(url, "/gradio_api/run/predict", {"data": bad, "fn_index": strength, "session_hash": "typed"})
        assert reply.status_code == 400 and line in reply.json()["detail"], reply.text
    assert "typed" not in demo.server_app.state_holder  # nothing was kept for the session
    ok = post(url, "/gradio_api/run/predict", {"data": values, "fn_index": strength, "session_hash": "typed"})
    assert ok.status_code == 200


def test_an_event_that_runs_through_the_queue_cannot_skip_it(roomy):
    demo, url = roomy
    body = {"data": [None, None, 1.0, 256, 256], "fn_index": fn_index(demo, "instant"), "session_hash": "skip"}
    reply = post(url, "/gradio_api/run/predict", body)
    assert reply.status_code == 400 and "through the queue" in reply.json()["detail"]


def test_a_visitors_uploads_are_bounded_in_number_and_bytes(small):
    _, url = small
    upload = lambda size: httpx.post(  # noqa: E731
        url + "gradio_api/upload", files={"files": ("p.png", png_bytes(size), "image/png")}, timeout=30
    )
    assert upload(600).status_code == 200  # about 1 kB
    too_big = httpx.post(
        url + "gradio_api/upload", files={"files": ("big.bin", b"\0" * (2**20 + 1), "image/png")}, timeout=30
    )
    assert too_big.status_code == 429 and "uploaded a lot" in too_big.json()["detail"]
    assert upload(64).status_code == 200 and upload(64).status_code == 200
    fourth = upload(64)
    assert fourth.status_code == 429 and "\n" not in fourth.json()["detail"]


def test_an_upload_without_its_length_is_refused(roomy):
    _, url = roomy
    body = iter(
        [b"--x\r\nContent-Disposition: form-data; name=files; filename=a.png\r\n\r\n", png_bytes(), b"\r\n--x--\r\n"]
    )
    reply = httpx.post(
        url + "gradio_api/upload", content=body, headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert reply.status_code == 411 and "Content-Length" in reply.json()["detail"]


def test_a_visitor_may_start_only_a_few_sessions(small):
    demo, url = small
    strength = fn_index(demo, "strength")
    values = [5.0, "balanced", True, True, 1.0, 0.0, -1.0, "block5_conv2"]
    replies = [
        post(url, "/gradio_api/run/predict", {"data": values, "fn_index": strength, "session_hash": f"s{i}"})
        for i in range(5)
    ]
    assert [r.status_code for r in replies] == [200, 200, 200, 429, 429]
    assert "too many new sessions" in replies[3].json()["detail"]
    again = post(url, "/gradio_api/run/predict", {"data": values, "fn_index": strength, "session_hash": "s0"})
    assert again.status_code == 200  # a session already started goes on


def test_one_visitor_cannot_fill_the_queue(roomy, monkeypatch):
    demo, url = roomy
    slow = threading.Event()
    restore = next(fn for fn in demo.fns.values() if fn.api_name == "restore")
    real = restore.fn
    monkeypatch.setattr(restore, "fn", lambda *a, **k: slow.wait(20) and real(*a, **k))
    body = lambda i: {"data": [None], "fn_index": fn_index(demo, "restore"), "session_hash": f"q{i}"}  # noqa: E731
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda i: post(url, "/gradio_api/queue/join", body(i)), range(32)))
    codes = [r.status_code for r in replies]
    assert codes.count(200) == gate.MAX_EVENTS and codes.count(429) == 32 - gate.MAX_EVENTS, codes
    assert all("already have a request waiting" in r.json()["detail"] for r in replies if r.status_code == 429)
    slow.set()


def test_the_fast_tabs_leave_stylize_its_places(monkeypatch):
    queue = types.SimpleNamespace(event_queue_per_concurrency_id={}, active_jobs=[])
    blocks = types.SimpleNamespace(_queue=queue)
    visitors = Visitors(Shares())
    for number in range(gate.FAST_PLACES):  # every fast place taken, by visitors one each
        visitors.join(f"10.0.0.{number}", "instant", blocks, number)
    with pytest.raises(Refusal, match="queue is full"):
        visitors.join("10.0.1.1", "light", blocks, 1000)
    visitors.join("10.0.1.1", "optimize", blocks, 1001)  # Stylize still joins (its own claims bound it)
    assert hosting.QUEUE_SIZE - gate.FAST_PLACES == hosting.MAX_RUNS


def test_an_error_at_join_names_no_server_path(roomy, seed_controls):
    demo, url = roomy
    reference = {"path": str(ROOT / "pyproject.toml"), "meta": META}  # not uploaded: Gradio names it, refusing
    data = [reference, reference, None, None, None, *seed_controls()[2:]]
    reply = post(
        url, "/gradio_api/queue/join", {"data": data, "fn_index": fn_index(demo, "stylize"), "session_hash": "p"}
    )
    assert reply.status_code == 400 and "to the gradio cache dir" in reply.json()["detail"]  # Stylize's validator
    assert str(ROOT) not in reply.text and "(a server file)" in reply.text


def test_scrubbing_event_streams_keeps_result_addresses_and_removes_paths_from_errors():
    done = {"msg": "process_completed", "success": False, "output": {"error": "Cannot move /home/x/a.png away"}}
    result = {"msg": "process_completed", "success": True, "output": {"data": [{"path": "/tmp/gradio/ab/out.png"}]}}
    chunk = f'data: {json.dumps(done)}\n\ndata: {json.dumps(result)}\n\nevent: error\ndata: "at /srv/app/x.py"\n\n'
    scrubbed = gate.scrub_events(chunk.encode()).decode()
    assert "/home/x" not in scrubbed and "/srv/app" not in scrubbed
    assert "/tmp/gradio/ab/out.png" in scrubbed  # a result's own address is how the page fetches it


@pytest.mark.parametrize("bomb", ["gif", "tiff"])
def test_a_decoder_bomb_is_refused_by_its_header_before_pillow_opens_it(roomy, bomb, monkeypatch):
    from PIL import Image as PillowImage

    import hostile

    opened = []
    real_open = PillowImage.open
    monkeypatch.setattr(PillowImage, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    _, url = roomy
    data = hostile.gif_comment_bomb() if bomb == "gif" else hostile.tiff_strip_bomb()
    path = httpx.post(url + "gradio_api/upload", files={"files": (f"b.{bomb}", data)}, timeout=30).json()[0]
    reference = {"path": path, "meta": META}
    started = time.monotonic()
    reply = post(url, "/gradio_api/call/builtin", {"data": [reference, "0", 1.0, 128]})
    with httpx.stream("GET", f"{url}gradio_api/call/builtin/{reply.json()['event_id']}", timeout=30) as events:
        text = "".join(events.iter_text())
    assert f"is a {bomb.upper()} file but must be PNG, JPEG or WebP" in text
    assert time.monotonic() - started < 5 and opened == []


def test_visitors_are_forgotten_once_their_window_has_passed(monkeypatch):
    now = [1000.0]
    # The gate's clock only: patching time.monotonic itself froze the servers' event loops too, and one woke into a
    # wait of hours at this module's teardown (uvicorn then never saw force_exit: 365 s, then the test failed).
    monkeypatch.setattr(gate, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    visitors = Visitors(Shares(uploads=1, upload_bytes=10, sessions=1))
    visitors.upload("10.0.0.1", 5, "a")
    visitors.session("10.0.0.1", "first")
    with pytest.raises(Refusal):
        visitors.upload("10.0.0.1", 1, "b")  # its share, used
    now[0] += gate.WINDOW + 1
    visitors.upload("10.0.0.2", 5, "c")
    visitors.session("10.0.0.2", "second")
    assert set(visitors._uploads) == set(visitors._sessions) == {"10.0.0.2"}  # the first visitor's records went
    visitors.upload("10.0.0.1", 5, "d")  # and its share is whole again
