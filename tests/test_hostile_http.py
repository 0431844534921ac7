"""A hostile client over raw HTTP against the launched app: server files, the queue, memory before a slot."""

import json
import os
import re
import threading
import time
import types
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client
from PIL import Image

from studio import bodies, components, hosting, sessions
from studio.tabs.webcam import BUILTIN

import hostile
from clips import make_clip

META = {"_type": "gradio.FileData"}


def call(
    url: str, api: str, data: list, session_hash: str | None = None, headers: dict | None = None, timeout: float = 60
) -> tuple[str, object]:
    """POST /call/api then read its event stream: ("complete", data) or ("error", message), as curl would."""
    body = {"data": data} | ({"session_hash": session_hash} if session_hash else {})
    posted = httpx.post(f"{url}gradio_api/call/{api}", json=body, headers=headers, timeout=timeout)
    if posted.status_code != 200:  # refused at join (a validator, a full queue, a body too large)
        return "refused", posted.text
    kind, payload = "none", None
    with httpx.stream("GET", f"{url}gradio_api/call/{api}/{posted.json()['event_id']}", timeout=timeout) as events:
        for line in events.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: ") and kind in ("complete", "error"):
                payload = json.loads(line[len("data: ") :])
                break
    return kind, payload


@pytest.fixture(scope="module")
def outside(tmp_path_factory, make_picture):
    """A picture outside Gradio's upload folder (a server's secret), and a path beside it that does not exist."""
    folder = tmp_path_factory.mktemp("secret")
    Image.fromarray((make_picture(64, 64, 5) * 255).astype(np.uint8)).save(folder / "secret.png")
    link = Path(get_upload_folder()) / f"probe-link-{os.getpid()}.png"  # a symlink inside, pointing out
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(folder / "secret.png")
    yield folder / "secret.png", folder / "missing.png", link
    link.unlink(missing_ok=True)


def references(path: Path) -> list:
    """The shapes a file reference can take: bare path, with meta, through '..' from the upload folder."""
    dotted = f"{get_upload_folder()}/{os.path.relpath(path, get_upload_folder())}"
    return [{"path": str(path)}, {"path": str(path), "meta": META}, {"path": dotted}, {"path": dotted, "meta": META}]


ENDPOINTS = {  # each image input, with the other values a call needs
    "builtin": lambda file: [file, "0", 0.0, 256],
    "instant": lambda file: [file, file, 1.0, 256, 256],
    "apply_trained": lambda file: [file, "none", 256],
    "restore": lambda file: [file],
    "video": lambda file: [file, BUILTIN, None, "0", 1.0, 0.5, 128],
}


def pairs(outside) -> list[tuple[dict, dict]]:
    """(a reference to the existing secret, the same shape of reference to a missing file) for every shape."""
    secret, missing, link = outside
    return list(zip(references(secret) + [{"path": str(link)}], references(missing) + [{"path": str(missing)}]))


def refused(url: str, api: str, data: list, reference: dict) -> str:
    """The refusal, with the path the client sent replaced (echoing a caller's own input reveals nothing)."""
    kind, message = call(url, api, data)
    assert kind in ("error", "refused"), (api, reference, kind, message)
    message = str(message)
    for sent in {reference["path"], str(Path(reference["path"]).resolve())}:
        message = message.replace(sent, "<sent>")
    message = re.sub(r"input_value=\{.*?\}", "input_value=<sent>", message)  # pydantic's shortened echo
    assert "no such file" not in message, message
    return message


@pytest.mark.parametrize("api", list(ENDPOINTS))
def test_no_server_file_is_read_and_the_answer_is_the_same_whether_it_exists(server, outside, api):
    _, url = server
    for existing, absent in pairs(outside):
        answers = [refused(url, api, ENDPOINTS[api](reference), reference) for reference in (existing, absent)]
        assert answers[0] == answers[1], (existing, answers)  # existing and missing answer alike


def test_stylize_mask_and_webcam_refuse_server_files_alike(server, outside, seed_controls):
    _, url = server
    for existing, absent in pairs(outside):
        answers = []
        for reference in (existing, absent):
            for api, data in [
                ("stylize", [reference, reference, *seed_controls(steps=1)]),
                (
                    "stylize",
                    [
                        None,
                        None,
                        None,
                        {"background": None, "composite": None, "layers": [reference]},
                        *seed_controls(steps=1)[2:],
                    ],
                ),
                ("webcam", [reference, "Built-in style (picked in the Built-in & trained styles tab)", None, 1.0, "0"]),
            ]:
                answers.append(refused(url, api, data, reference))
        half = len(answers) // 2
        assert answers[:half] == answers[half:], answers


def test_an_uploaded_file_still_works(server, make_picture, tmp_path):
    _, url = server
    Image.fromarray((make_picture(64, 64, 5) * 255).astype(np.uint8)).save(tmp_path / "mine.png")
    with open(tmp_path / "mine.png", "rb") as file:
        uploaded = httpx.post(f"{url}gradio_api/upload", files={"files": ("mine.png", file, "image/png")}).json()[0]
    kind, data = call(url, "builtin", [{"path": uploaded, "meta": META}, "0", 0.0, 128])
    assert kind == "complete", data


def fn_index(demo, api: str) -> int:
    return next(index for index, fn in demo.fns.items() if fn.api_name == api)


def run_data(uploaded: list, seed_controls, steps: int) -> list:
    """/stylize's inputs as the page sends them: the uploads, no second style or mask, the history state's place."""
    return [*uploaded, None, None, None, *seed_controls(steps=steps)[2:]]


def join(url: str, demo, api: str, data: list, session_hash: str, client: str) -> httpx.Response:
    """A raw /queue/join, as the page sends it, from client (its X-Forwarded-For hop)."""
    return httpx.post(
        f"{url}gradio_api/queue/join",
        headers={"X-Forwarded-For": client},
        timeout=30,
        json={
            "data": data,
            "fn_index": fn_index(demo, api),
            "session_hash": session_hash,
            "event_data": None,
            "trigger_id": None,
        },
    )


@pytest.fixture
def uploaded(server, make_picture, tmp_path):
    """Two pictures uploaded to the server as the page uploads them: (content, style) references."""
    _, url = server
    references = []
    for name, seed in (("photo.png", 1), ("painting.png", 2)):
        Image.fromarray((make_picture(48, 64, seed) * 255).astype(np.uint8)).save(tmp_path / name)
        with open(tmp_path / name, "rb") as file:
            path = httpx.post(f"{url}gradio_api/upload", files={"files": (name, file, "image/png")}).json()[0]
        references.append({"path": path, "meta": META})
    return references


@pytest.fixture
def proxied(monkeypatch):
    monkeypatch.setattr(hosting, "PROXY_HOPS", 1)


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def optimizer_events(demo, client: str) -> int:
    return hosting.events_by_client(types.SimpleNamespace(app=demo.app), "optimize")[client]


def test_twenty_joins_with_random_session_hashes_hold_one_place(server, uploaded, seed_controls, proxied):
    demo, url = server
    long_run = run_data(uploaded, seed_controls, 40)
    answers = [join(url, demo, "stylize", long_run, f"attack-{index}", "10.6.6.6") for index in range(20)]
    accepted = [answer for answer in answers if answer.status_code == 200]
    assert len(accepted) == 1, [answer.text for answer in answers]
    assert all("You already have a run" in answer.text for answer in answers if answer.status_code != 200)
    assert optimizer_events(demo, "10.6.6.6") <= 1
    other = Client(url, verbose=False, headers={"X-Forwarded-For": "10.0.0.2"})
    queued = other.submit(*uploaded_files(uploaded), *seed_controls(steps=2), api_name="/stylize")
    kind, data = call(url, "instant", [*uploaded, 1.0, 128, 128], headers={"X-Forwarded-For": "10.0.0.3"})
    assert kind == "complete", data  # the fast tabs never wait behind the optimizer
    sessions.stop(
        types.SimpleNamespace(session_hash=next(f"attack-{i}" for i, a in enumerate(answers) if a.status_code == 200))
    )
    assert "Done:" in queued.result(timeout=120)[1]


def test_forged_first_hops_do_not_make_more_visitors(server, uploaded, seed_controls, proxied):
    demo, url = server
    long_run = run_data(uploaded, seed_controls, 40)
    # Behind one proxy that appends the address it saw: whatever the client wrote before it is the client's.
    answers = [
        join(url, demo, "stylize", long_run, f"forger-{index}", f"203.0.113.{index}, 10.6.6.8") for index in range(5)
    ]
    accepted = [index for index, answer in enumerate(answers) if answer.status_code == 200]
    assert len(accepted) == 1, [answer.text for answer in answers]
    assert optimizer_events(demo, "10.6.6.8") <= 1 and not optimizer_events(demo, "203.0.113.0")
    sessions.stop(types.SimpleNamespace(session_hash=f"forger-{accepted[0]}"))
    assert wait_for(lambda: optimizer_events(demo, "10.6.6.8") == 0)


def uploaded_files(references: list[dict]) -> list[dict]:
    """The uploads as gradio_client takes already-uploaded files."""
    return [{"path": reference["path"], "meta": META} for reference in references]


def test_stylize_and_stop_ten_times_leaves_at_most_one_run_queued(server, uploaded, seed_controls, proxied):
    demo, url = server
    busy = join(url, demo, "stylize", run_data(uploaded, seed_controls, 200), "busy-visitor", "10.0.0.9")
    assert busy.status_code == 200 and wait_for(lambda: sessions.runs.waiting("10.0.0.9") == 0)  # it runs
    page = types.SimpleNamespace(session_hash="stop-and-go")
    for _ in range(10):
        join(url, demo, "stylize", run_data(uploaded, seed_controls, 2), "stop-and-go", "10.7.7.7")
        sessions.stop(page)  # what the page's Stop does
    assert sessions.runs.waiting("10.7.7.7") == 0  # the one accepted was cancelled
    assert optimizer_events(demo, "10.7.7.7") <= 2  # it, and at most one stopped run still leaving the queue
    sessions.stop(types.SimpleNamespace(session_hash="busy-visitor"))
    assert wait_for(lambda: optimizer_events(demo, "10.7.7.7") == 0)  # cancelled runs give their turn back


def test_a_call_without_session_hash_or_a_cancelled_job_does_not_lock_the_next(
    server, uploaded, seed_controls, proxied
):
    demo, url = server
    for _ in range(2):  # the same client twice, no session hash: the first's claim was released
        kind, data = call(url, "stylize", [*uploaded, *seed_controls(steps=1)], headers={"X-Forwarded-For": "10.1.1.1"})
        assert kind == "complete", data
    # The queue's one slot stays held until the end: with 200 steps the run ended before Gradio took the cancelled
    # job below out (once on a busy CI machine), so that job started and its claim went with it.
    holder = Client(url, verbose=False, headers={"X-Forwarded-For": "10.1.1.2"})
    held = holder.submit(*uploaded_files(uploaded), *seed_controls(steps=3000), api_name="/stylize")
    assert wait_for(lambda: held.outputs())
    job = Client(url, verbose=False, headers={"X-Forwarded-For": "10.1.1.3"}).submit(
        *uploaded_files(uploaded), *seed_controls(steps=1), api_name="/stylize"
    )
    assert wait_for(lambda: optimizer_events(demo, "10.1.1.3") == 1)
    job.cancel()  # an API client cancels its queued job: it leaves Gradio's queue without running its handler
    # Gradio takes the cancelled job out on its own time: 10 s were too few once on a fresh CI machine.
    assert wait_for(lambda: optimizer_events(demo, "10.1.1.3") == 0)
    assert sessions.runs.waiting("10.1.1.3") == 1  # its claim is still there, until it is found gone
    time.sleep(sessions.GRACE)
    answer = join(url, demo, "stylize", run_data(uploaded, seed_controls, 1), "after-cancel", "10.1.1.3")
    assert answer.status_code == 200, answer.text
    sessions.stop(types.SimpleNamespace(session_hash=holder.session_hash))  # the page's Stop: at its next step
    held.cancel()


def test_a_silent_webcam_stream_releases_its_slot_and_a_client_has_one(launch_app, monkeypatch, proxied):
    monkeypatch.setattr(hosting, "STREAM_SECONDS", 2)
    monkeypatch.setattr(sessions, "GRACE", 0.5)
    builtin = "Built-in style (picked in the Built-in & trained styles tab)"
    with launch_app() as (demo, url):

        def streams(client: str) -> int:
            return hosting.events_by_client(types.SimpleNamespace(app=demo.app), "webcam")[client]

        first = join(url, demo, "webcam", [None, builtin, None, 1.0, "0"], "cam-1", "10.0.0.5")
        assert first.status_code == 200, first.text
        time.sleep(0.6)
        second = join(url, demo, "webcam", [None, builtin, None, 1.0, "0"], "cam-2", "10.0.0.5")
        assert second.status_code == 422 and "camera stream" in second.text  # one per client
        assert streams("10.0.0.5") == 1
        assert wait_for(lambda: streams("10.0.0.5") == 0, 10)  # no frame came: the slot goes at the time limit
        again = join(url, demo, "webcam", [None, builtin, None, 1.0, "0"], "cam-3", "10.0.0.5")
        assert again.status_code == 200, again.text


class PeakMemory:
    """The process's resident memory sampled every few ms while in the block (the server runs in this process)."""

    def __enter__(self):
        self.base = self.peak = resident()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while not self.done.wait(0.005):
            self.peak = max(self.peak, resident())

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.growth = self.peak - self.base


def resident() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def test_a_mask_of_eight_huge_layers_is_refused_without_decoding(server, uploaded, seed_controls, tmp_path):
    demo, url = server
    (tmp_path / "layer.png").write_bytes(hostile.png_header_only(7000, 7000))  # 49 MP each, by the header
    with open(tmp_path / "layer.png", "rb") as file:
        layer = httpx.post(f"{url}gradio_api/upload", files={"files": ("layer.png", file, "image/png")}).json()[0]
    mask = {"background": uploaded[0], "composite": uploaded[0], "layers": [{"path": layer, "meta": META}] * 8}
    data = [*uploaded, None, mask, None, *seed_controls(steps=1)[2:]]
    with PeakMemory() as memory:
        answers = [join(url, demo, "stylize", data, f"mask-{index}", "127.0.0.1") for index in range(4)]
    assert all(answer.status_code != 200 and "megapixels together" in answer.text for answer in answers), answers
    assert memory.growth < 100 * 2**20, memory.growth  # Gradio's own preprocess would decode 8 x 196 MB


def test_oversized_or_unbounded_bodies_are_refused_before_parsing(server, uploaded, seed_controls):
    demo, url = server
    huge = "data:image/png;base64," + "A" * (8 * 2**20)
    body = json.dumps(
        {
            "data": [{"url": huge, "meta": META}, *uploaded[1:], None, None, None, *seed_controls(steps=1)[2:]],
            "fn_index": fn_index(demo, "stylize"),
            "session_hash": "big-body",
        }
    ).encode()
    with PeakMemory() as memory:
        sized = httpx.post(f"{url}gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
        chunked = httpx.post(
            f"{url}gradio_api/queue/join",
            headers={"content-type": "application/json"},
            content=(body[i : i + 65536] for i in range(0, len(body), 65536)),
        )  # no Content-Length
    assert sized.status_code == 413 and "limit of 1 MB" in sized.text, sized.text
    assert chunked.status_code == 413, chunked.text
    assert memory.growth < 100 * 2**20, memory.growth
    files = [("files", (f"f{index}.png", b"x" * 100, "image/png")) for index in range(bodies.MAX_UPLOAD_FILES + 1)]
    many = httpx.post(f"{url}gradio_api/upload", files=files)
    assert many.status_code == 413 and "at most" in many.text, many.text
    assert httpx.post(f"{url}gradio_api/upload", files=files[:1]).status_code == 200
    assert demo.state_session_capacity == hosting.STATE_SESSIONS  # not Gradio's 10,000


def upload(url: str, path: Path, kind: str = "video/mp4") -> dict:
    with open(path, "rb") as file:
        return {"path": httpx.post(f"{url}gradio_api/upload", files={"files": (path.name, file, kind)}).json()[0]}


def test_a_clip_named_by_url_a_non_video_or_one_too_big_gets_one_line(server, tmp_path, monkeypatch):
    _, url = server
    clip = make_clip(tmp_path / "clip.mp4", 6)
    for named in ("https://example.com/clip.mp4", "file:///etc/passwd"):
        kind, message = call(url, "video", ENDPOINTS["video"]({"path": named, "meta": META}))
        assert kind == "refused" and "not named by a URL" in message, message
    (tmp_path / "picture.mp4").write_bytes(hostile.png_header_only(40000, 40000))  # a picture named like a clip
    kind, message = call(url, "video", ENDPOINTS["video"]({**upload(url, tmp_path / "picture.mp4"), "meta": META}))
    assert kind == "error" and "is not a video" in str(message), message
    monkeypatch.setattr(hosting, "VIDEO_LIMITS", hosting.video_limits({"STYLIZE_VIDEO_MB": "0.001"}))
    kind, message = call(url, "video", ENDPOINTS["video"]({**upload(url, clip), "meta": META}))
    assert kind == "error" and "MB but may be at most" in str(message), message


def test_an_upload_over_the_largest_clip_is_refused_by_its_length(server):
    """Refused by the Content-Length it states, before a byte of it is read (a clip's bound, not 4 pictures')."""
    import socket

    _, url = server
    address = httpx.URL(url)
    assert bodies.MAX_UPLOAD_BYTES > hosting.VIDEO_LIMITS.max_bytes
    with socket.create_connection((address.host, address.port), timeout=10) as connection:
        connection.sendall(
            b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {bodies.MAX_UPLOAD_BYTES + 1}\r\n\r\n".encode()
        )
        answer = connection.recv(4096)
        while b"limit of" not in answer and (more := connection.recv(4096)):  # the body may come in its own packet
            answer += more
    assert answer.startswith(b"HTTP/1.1 413") and b"limit of" in answer, answer


def test_the_mask_editor_takes_no_blobs(server):
    demo, url = server
    editor = next(block for block in demo.blocks.values() if isinstance(block, components.MaskEditor))
    answer = httpx.post(
        f"{url}gradio_api/component_server",
        json={
            "data": {"type": "layer", "index": "0", "id": "x" * 64},
            "component_id": editor._id,
            "session_hash": "blob-client",
            "fn_name": "accept_blobs",
        },
    )
    assert answer.status_code == 404, answer.text
    assert "accept_blobs" not in json.dumps(demo.config, default=str)


def test_the_page_loads_no_event_and_errors_show_no_server_path(server):
    demo, _ = server
    loads = [
        dependency
        for dependency in demo.config["dependencies"]
        if any(target[1] == "load" for target in dependency["targets"])
    ]
    assert not loads  # the built-in gallery is rendered once at start-up, not on every page load
    label = hosting.public("Done with Magenta's TensorFlow network (/home/someone/.cache/kagglehub/models/x/2)")
    assert "/home" not in label and "Magenta's TensorFlow network" in label
    assert (
        hosting.public("content image: no such file '/tmp/gradio/abc/photo.png'")
        == "content image: no such file '(a server file)'"
    )
    assert hosting.public("use 3:0.6, 12:0.4 at 512 px") == "use 3:0.6, 12:0.4 at 512 px"
