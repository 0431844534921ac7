"""The soak's hostile phase: one attacking client looping issues 17's and 25's requests beside two visitors.

Run by bench/soak.py (--hostile-seconds); every request goes to the app that soak.py launched on 127.0.0.1.
Visitors are told apart by X-Forwarded-For (the app runs as if behind a Space's proxy).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from gradio.utils import get_upload_folder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import hostile  # noqa: E402  (the header-only PNG that claims 49 megapixels)

META = {"_type": "gradio.FileData"}
BUILTIN = "Built-in style (picked in the Built-in & trained styles tab)"
ATTACKER = "10.6.6.6"
# Where the server's own files are: no answer may name them (Gradio's upload folder is how files are fetched).
SERVER_PLACES = (str(Path(__file__).resolve().parent.parent), str(Path.home()))


def clip_inputs(clip: dict) -> list:
    """/video's inputs: the clip, a built-in style, no painting, style 0, amount, consistency, size."""
    return [clip, BUILTIN, None, "0", 1.0, 0.5, 128]


class Attack:
    """The attacker's loop; counts what each request got back (status codes), for the report."""

    def __init__(self, url: str, demo, pictures: list[Path], controls: list, secret: Path):
        """pictures: a photo and a painting to upload; controls: the values in CONTROL_NAMES order."""
        self.url, self.demo, self.pictures, self.controls, self.secret = url, demo, pictures, controls, secret
        self.answers: Counter = Counter()
        self.leaks = 0  # answers that carried a server file back: must stay 0
        self.paths = 0  # answers that named a server path outside Gradio's upload folder: must stay 0
        self.http = httpx.Client(timeout=30, headers={"X-Forwarded-For": ATTACKER})
        self.uploads, self.layer = [], ""
        self.editor = next(block._id for block in demo.blocks.values() if type(block).__name__ == "MaskEditor")

    def fn(self, api: str) -> int:
        return next(index for index, fn in self.demo.fns.items() if fn.api_name == api)

    def join(self, api: str, data: list, session: str, label: str) -> None:
        self.post(
            label,
            "queue/join",
            json={
                "data": data,
                "fn_index": self.fn(api),
                "session_hash": session,
                "event_data": None,
                "trigger_id": None,
            },
        )

    def read_file(self) -> None:
        upload = get_upload_folder()
        link = Path(upload) / "attacker-link.png"
        if not link.is_symlink():
            link.symlink_to(self.secret)  # as if a symlink had got in there
        dotted = f"{upload}/{os.path.relpath(self.secret, upload)}"
        for reference in (
            {"path": str(self.secret)},
            {"path": str(self.secret), "meta": META},
            {"path": str(link)},
            {"path": dotted},
        ):
            for api, data in (("builtin", [reference, "0", 0.0, 128]), ("video", clip_inputs(reference))):
                posted = self.post("file read", f"call/{api}", json={"data": data})
                if posted is not None and posted.status_code == 200:
                    answer = f"{self.url}gradio_api/call/{api}/{posted.json()['event_id']}"
                    with self.http.stream("GET", answer) as events:
                        self.leaks += "event: complete" in "".join(events.iter_text())  # the file came back

    def upload(self, name: str, data: bytes) -> str:
        """An upload's path, or "" once the gate says this visitor has uploaded enough for a while."""
        answer = self.post("upload", "upload", files={"files": (name, data, "image/png")})
        return answer.json()[0] if answer is not None and answer.status_code == 200 else ""

    def post(self, label: str, path: str, **request) -> httpx.Response | None:
        """One request, its status counted under label; a connection the server cut (a body refused before it
        was read) counts too. A fresh connection each time: the server may close one after refusing."""
        try:
            answer = httpx.post(
                f"{self.url}gradio_api/{path}",
                timeout=30,
                headers={"X-Forwarded-For": ATTACKER, **request.pop("headers", {})},
                **request,
            )
        except httpx.TransportError:
            self.answers[f"{label} cut off"] += 1
            return None
        self.answers[f"{label} {answer.status_code}"] += 1
        self.paths += any(place in answer.text for place in SERVER_PLACES)
        return answer

    def round(self, number: int) -> None:
        if number % 10 == 0:  # uploads expire with the cache age: fresh ones, the attacker's own
            fresh = [{"path": self.upload(path.name, path.read_bytes()), "meta": META} for path in self.pictures]
            self.uploads = fresh if all(f["path"] for f in fresh) else self.uploads or fresh  # the gate may say no
            self.layer = self.upload("layer.png", hostile.png_header_only(7000, 7000)) or self.layer  # 49 MP
        run = [*self.uploads, None, None, None, *self.controls]  # no second style, no mask, the history state
        self.read_file()
        for index in range(20):  # random session hashes: one claim at most
            self.join("stylize", run, f"attack-{number}-{index}", "stylize join")
        self.join(
            "stylize",
            [
                *self.uploads,
                None,
                {"background": None, "composite": None, "layers": [{"path": self.layer, "meta": META}] * 8},
                None,
                *self.controls,
            ],
            f"mask-{number}",
            "huge mask",
        )
        body = json.dumps({"data": [{"url": "data:image/png;base64," + "A" * (8 * 2**20)}], "fn_index": 0})
        self.post("8 MB body", "queue/join", content=body, headers={"content-type": "application/json"})
        self.post(
            "accept_blobs",
            "component_server",
            json={
                "data": {"id": f"blob-{number}"},
                "session_hash": "x",
                "component_id": self.editor,
                "fn_name": "accept_blobs",
            },
        )
        self.join("webcam", [None, BUILTIN, None, 1.0, "0"], f"cam-{number}", "silent webcam")
        self.post("call without session", "call/stylize", json={"data": [*self.uploads, None, None, *self.controls]})

    def gate_round(self, number: int) -> None:
        """Issue 25's requests: decoder bombs, URLs to fetch, values a control can't hold, closed routes, a burst
        of uploads, a queue filled from one address and private events under new session hashes."""
        for name, bomb in (("bomb.gif", hostile.gif_comment_bomb()), ("bomb.tif", hostile.tiff_strip_bomb())):
            path = self.upload(name, bomb)
            if path:
                self.join("builtin", [{"path": path, "meta": META}, "0", 1.0, 128], f"bomb-{number}", "decoder bomb")
        url = {"path": "https://example.com/huge.png", "meta": META}
        self.join("instant", [url, url, 1.0, 256, 256], f"url-{number}", "URL to fetch")
        strength = [list(range(30_000)), "balanced", True, True, 1.0, 0.0, -1.0]
        self.post(
            "90 kB slider",
            "run/predict",
            json={"data": strength, "fn_index": self.fn("strength"), "session_hash": f"big-{number}"},
        )
        self.post("run/strength", "run/strength", json={"data": strength})
        for route in ("deep_link?session_hash=x", "dev/reload", "upload_progress?upload_id=unknown"):
            if route.startswith("upload_progress") and number % 10:
                continue  # the gate waits 3 s for an upload to start, as Gradio does: not every round
            self.get(route.split("?")[0], f"gradio_api/{route}")
        self.post("process_recording", "process_recording", json={})
        # The Video tab's clip: a URL, and a playlist that names a server file, uploaded as an mp4.
        clip_url = {"path": "https://example.com/huge.mp4", "meta": META}
        self.join("video", clip_inputs(clip_url), f"clip-url-{number}", "clip URL")
        playlist = self.upload("playlist.mp4", b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
        if playlist:
            self.join("video", clip_inputs({"path": playlist, "meta": META}), f"playlist-{number}", "playlist clip")
        for index in range(12):
            self.upload(f"burst-{index}.png", b"\x89PNG" + bytes(2**20))
        for index in range(32):
            self.join("restore", [None], f"restore-{number}-{index}", "restore join")
        preset = next(i for i, fn in self.demo.fns.items() if fn.name == "preset_controls")
        for index in range(20):
            self.post(
                "private event",
                "run/predict",
                json={"data": ["quick"], "fn_index": preset, "session_hash": f"private-{number}-{index}"},
            )

    def get(self, label: str, path: str) -> None:
        try:
            answer = self.http.get(f"{self.url}{path}", timeout=10)
        except httpx.TransportError:
            self.answers[f"{label} cut off"] += 1
            return
        self.answers[f"{label} {answer.status_code}"] += 1

    def loop(self, seconds: float, stop: threading.Event) -> None:
        deadline, number = time.monotonic() + seconds, 0
        while time.monotonic() < deadline and not stop.is_set():
            self.round(number)
            self.gate_round(number)
            number += 1
            time.sleep(0.5)
        self.answers["rounds"] = number
