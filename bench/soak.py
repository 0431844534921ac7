"""Soak test of the hosted app: back-to-back runs through its API, then webcam frames, watching memory and disk.

    python -m bench.soak [--runs 100] [--size 128] [--steps 5] [--webcam-seconds 120] [--network vgg16-hed]
                         [--hostile-seconds 300]

Run from the repository root, as a module: app.py is not installed, the current folder is on the path.

Launches the app in this process (so resident memory is the server's), drives /stylize with gradio_client as a
visitor would, and every 10 runs prints the resident memory (VmRSS) and the sizes of Gradio's cache and the
results folder, both fresh temporary folders whose files are kept STYLIZE_CACHE_SECONDS (60 s here, against
the app's default 1200 s) so the levelling-off shows within minutes. A new client (a new session) comes every
10 runs and the old one's session is ended as a closed page ends it. Then stylized webcam frames for
--webcam-seconds, each through the steps Gradio takes for the /webcam endpoint (the frame's header check and
decode, the network, the inline preview), with a freshly initialised transformation network standing in for a
trained one (the same arithmetic). Last, the hostile phase (bench/attacker.py): one attacking client loops
issues 17's and 25's requests beside two normal visitors running Stylize and Instant; it reports their finished runs,
the peak resident memory against the memory budget, and the disk use after their pages close.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

# Our own cache and results folders, so other apps on the machine don't count; files older than a minute go,
# so the figures show where disk use levels off within a few minutes (the default keeps them 20 minutes).
os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="soak-gradio-")
os.environ.setdefault("STYLIZE_CACHE_SECONDS", "60")
os.environ.setdefault("STYLIZE_MEMORY_BUDGET_MB", "3072")  # a small Space's share, so the budget is what binds

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import app  # noqa: E402
from studio import components, hosting, sessions, trained  # noqa: E402
from studio.controls import CONTROL_NAMES  # noqa: E402
from studio.tabs import webcam  # noqa: E402
from stylize import fast  # noqa: E402
from stylize.fast.transformer import save_transformer  # noqa: E402
from stylize.gatys.networks import load_network  # noqa: E402


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def folder_mb(folder: Path) -> tuple[float, int]:
    files = [path for path in Path(folder).rglob("*") if path.is_file()] if Path(folder).exists() else []
    return sum(path.stat().st_size for path in files) / 2**20, len(files)


def report(label: str, demo, started: float, baseline: float | None) -> float:
    rss = resident_mb()
    cache, cache_files = folder_mb(demo.GRADIO_CACHE)
    results, result_files = folder_mb(hosting.RESULTS_DIR)
    growth = f" ({100 * (rss / baseline - 1):+.1f}% since run 10)" if baseline else ""
    print(
        f"| {label} | {time.monotonic() - started:.0f} | {rss:.0f}{growth} | {cache:.1f} MB / {cache_files} | "
        f"{results:.2f} MB / {result_files} |",
        flush=True,
    )
    return rss


def picture(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([127 + 120 * np.sin(x * f + y * g) for f, g in rng.uniform(0.02, 0.2, (3, 2))], axis=-1).astype(
        np.uint8
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--webcam-seconds", type=float, default=120)
    parser.add_argument("--network", default="vgg16-hed")
    parser.add_argument("--hostile-seconds", type=float, default=300)
    arguments = parser.parse_args()

    from gradio_client import Client, handle_file

    work = Path(tempfile.mkdtemp(prefix="soak-"))
    hosting.RESULTS_DIR = work / "results"
    Image.fromarray(picture(300, 400, 1)).save(work / "photo.jpg")
    Image.fromarray(picture(256, 256, 2)).save(work / "painting.png")
    photo, painting = handle_file(str(work / "photo.jpg")), handle_file(str(work / "painting.png"))
    demo = hosting.configure_queue(app.build_app(load_network(arguments.network)))
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **hosting.launch_options())
    controls = dict(
        preset_name="seed",
        strength=5.0,
        style_from_strength=False,
        style_log=-1.0,
        content_log=3.0,
        tv_log=0.0,
        normalize=False,
        steps=arguments.steps,
        size=arguments.size,
        optimizer="adam",
        precision="auto",
        start_size=0,
        coarse_steps=0,
        init="content",
        seed=0,
        style_scale=1.0,
        colors="style",
        layer_emphasis=0.0,
        blend=0.5,
        seconds=60.0,
        exact_steps=True,  # the steps asked for, not a time budget
        scale_steps="",
    )
    values = [None, None, *[controls[name] for name in CONTROL_NAMES]]

    print(
        f"{arguments.runs} runs of {arguments.steps} steps at {arguments.size} px through /stylize "
        f"({arguments.network}), then {arguments.webcam_seconds:.0f} s of webcam frames\n"
    )
    print("| after | seconds | resident memory (MB) | Gradio cache (size / files) | results (size / files) |")
    print("|---|---|---|---|---|")
    started, baseline, client = time.monotonic(), None, None
    report("start", demo, started, None)
    for run in range(1, arguments.runs + 1):
        if client is None:
            client = Client(url, verbose=False)
        result = client.predict(photo, painting, *values, api_name="/stylize")
        assert "Done:" in result[1], result[1]
        if run % 10 == 0:
            rss = report(f"run {run}", demo, started, baseline)
            baseline = baseline or rss
            sessions.end_session(type("Request", (), {"session_hash": client.session_hash})())  # the page closes
            client = None

    models = work / "models"
    save_transformer(fast.build_transformer(width=0.5), models / "soak.keras")
    trained.MODELS_DIR = models
    frame_input = components.Frame(sources=["webcam"], streaming=True)
    frame_output = components.Preview(streaming=True)
    frames, webcam_started, next_report = 0, time.monotonic(), 30.0
    while time.monotonic() - webcam_started < arguments.webcam_seconds:
        upload = Path(demo.GRADIO_CACHE) / "frame.jpg"  # the browser uploads each frame as a file, into the cache
        buffer = io.BytesIO()
        Image.fromarray(picture(240, 320, frames % 50)).save(buffer, "JPEG", quality=80)
        upload.write_bytes(buffer.getvalue())
        decoded = frame_input.preprocess(frame_input.data_model(path=str(upload), orig_name="frame.jpg"))
        frame_output.postprocess(webcam.webcam_frame(decoded, "soak", None, 1.0))
        frames += 1
        if time.monotonic() - webcam_started >= next_report:
            report(f"webcam {next_report:.0f} s ({frames} frames)", demo, started, baseline)
            next_report += 30.0
    if arguments.webcam_seconds:
        report(f"webcam end ({frames} frames, {frames / arguments.webcam_seconds:.1f}/s)", demo, started, baseline)
    if arguments.hostile_seconds:
        hostile_phase(demo, url, work, [controls[name] for name in CONTROL_NAMES], arguments.hostile_seconds)
    demo.close()


class Sampler:
    """The process's peak resident memory, sampled every 50 ms in a thread."""

    def __init__(self):
        self.peak, self.done = resident_mb(), threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.done.wait(0.05):
            self.peak = max(self.peak, resident_mb())


def hostile_phase(demo, url: str, work: Path, controls: list, seconds: float) -> None:
    from gradio_client import Client, handle_file

    from bench.attacker import Attack
    from stylize.core import limits

    hosting.PROXY_HOPS = 1  # visitors told apart by X-Forwarded-For, as behind a Space's one proxy
    Image.fromarray(picture(64, 64, 9)).save(work / "secret.png")  # a server file the attacker asks for
    disk_at_start = folder_mb(demo.GRADIO_CACHE)[0] + folder_mb(hosting.RESULTS_DIR)[0]
    files_at_start = set(Path(demo.GRADIO_CACHE).rglob("*"))
    base, sampler, stop = resident_mb(), Sampler(), threading.Event()
    finished, refused, clients = [0, 0], Counter(), []

    def user(number: int) -> None:
        client = Client(url, verbose=False, headers={"X-Forwarded-For": f"10.0.0.{number + 1}"})
        clients.append(client)
        photo, painting = handle_file(str(work / "photo.jpg")), handle_file(str(work / "painting.png"))
        while not stop.is_set():
            try:
                client.predict(photo, painting, 1.0, 128, 256, api_name="/instant")
                if "Done:" in client.predict(photo, painting, None, None, *controls, api_name="/stylize")[1]:
                    finished[number] += 1
            except Exception as error:  # refused (memory busy, a queue full): try again, as a visitor would
                refused[" ".join(str(error).split())[:90]] += 1
                time.sleep(1)

    attack = Attack(url, demo, [work / "photo.jpg", work / "painting.png"], controls, work / "secret.png")
    threads = [threading.Thread(target=user, args=(number,)) for number in range(2)]
    threads.append(threading.Thread(target=attack.loop, args=(seconds, stop)))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.monotonic() - started
    for client in clients:  # the pages close
        sessions.end_session(type("Request", (), {"session_hash": client.session_hash})())
    disk_closed = folder_mb(demo.GRADIO_CACHE)[0] + folder_mb(hosting.RESULTS_DIR)[0]
    time.sleep(hosting.CACHE_AGE + hosting.CACHE_SWEEP + 10)  # Gradio's sweep takes the uploads and its copies
    disk_after = folder_mb(demo.GRADIO_CACHE)[0] + folder_mb(hosting.RESULTS_DIR)[0]
    sampler.done.set()
    left = Counter(
        path.name.split("-")[0]
        for folder in (demo.GRADIO_CACHE, hosting.RESULTS_DIR)
        for path in Path(folder).rglob("*")
        if path.is_file() and path not in files_at_start
    )
    print(f"\nHostile phase: {elapsed:.0f} s, attacker {attack.answers['rounds']} rounds\n")
    print("| figure | value |\n|---|---|")
    print(f"| normal visitors' finished runs | {finished[0]} and {finished[1]} |")
    print(f"| their refusals (retried) | {dict(refused) or 'none'} |")
    print(f"| attacker's answers | {', '.join(f'{k}: {v}' for k, v in sorted(attack.answers.items()))} |")
    print(f"| server files read by the attacker | {attack.leaks} |")
    print(f"| attacker's answers naming a server path outside Gradio's upload folder | {attack.paths} |")
    budget = limits.BUDGET.total
    print(
        f"| resident memory: start / peak / peak above start | {base:.0f} / {sampler.peak:.0f} / "
        f"{sampler.peak - base:.0f} MB (budget {budget / 2**20:.0f} MB) |"
        if budget
        else "| budget | none |"
    )
    print(
        f"| disk (Gradio cache + results): start / pages closed / {hosting.CACHE_AGE + hosting.CACHE_SWEEP + 10:.0f}"
        f" s later | {disk_at_start:.1f} / {disk_closed:.1f} / {disk_after:.1f} MB |"
    )
    print(f"| files not there at the start, left then | {dict(left) or 'none'} |")


if __name__ == "__main__":
    main()
