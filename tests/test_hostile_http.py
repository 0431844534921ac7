"""A hostile client over raw HTTP against the launched app: server files, the queue, memory before a slot."""

import json
import os
import re
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio.utils import get_upload_folder
from PIL import Image

META = {"_type": "gradio.FileData"}


def call(url: str, api: str, data: list, session_hash: str | None = None, headers: dict | None = None,
         timeout: float = 60) -> tuple[str, object]:
    """POST /call/api then read its event stream: ("complete", data) or ("error", message), as curl would."""
    body = {"data": data} | ({"session_hash": session_hash} if session_hash else {})
    posted = httpx.post(f"{url}gradio_api/call/{api}", json=body, headers=headers, timeout=timeout)
    if posted.status_code != 200:  # refused at join (a validator, a full queue, a body too large)
        return "refused", posted.text
    kind, payload = "none", None
    with httpx.stream("GET", f"{url}gradio_api/call/{api}/{posted.json()['event_id']}", timeout=timeout) as events:
        for line in events.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: "):]
            elif line.startswith("data: ") and kind in ("complete", "error"):
                payload = json.loads(line[len("data: "):])
                break
    return kind, payload


@pytest.fixture(scope="module")
def outside(tmp_path_factory, make_picture):
    """A picture outside Gradio's upload folder (a server's secret), and a path beside it that does not exist."""
    folder = tmp_path_factory.mktemp("secret")
    Image.fromarray((make_picture(64, 64, 5) * 255).astype(np.uint8)).save(folder / "secret.png")  # the name must not come back
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
            for api, data in [("stylize", [reference, reference, *seed_controls(steps=1)]),
                              ("stylize", [None, None, None, {"background": None, "composite": None,
                                                              "layers": [reference]}, *seed_controls(steps=1)[2:]]),
                              ("webcam", [reference, "Built-in style (picked in the Built-in & trained styles tab)",
                                          None, 1.0, "0"])]:
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
