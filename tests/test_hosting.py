"""Hosting for strangers: sessions kept apart, one queued run each, a bounded queue, budgets, bounded disk."""

import collections
import functools
import os
import re
import shutil
import threading
import time
import types
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image
from starlette.requests import HTTPConnection, Request

from studio import hosting, sessions
from stylize.core import costs

import hostile


@pytest.fixture(scope="module")
def pictures(tmp_path_factory, content, style):
    folder = tmp_path_factory.mktemp("hosting")
    Image.fromarray((content * 255).astype(np.uint8)).save(folder / "content.png")
    Image.fromarray((style * 255).astype(np.uint8)).save(folder / "style.png")
    return handle_file(str(folder / "content.png")), handle_file(str(folder / "style.png"))


@pytest.fixture
def controls(seed_controls):
    return functools.partial(seed_controls, steps=2)


@pytest.fixture
def visitor(monkeypatch):
    """visitor(url, n): a client seen as visitor n, as behind a Space's proxy (each claim is per client)."""
    monkeypatch.setattr(hosting, "PROXY_HOPS", 1)
    return lambda url, number: Client(url, verbose=False, headers={"X-Forwarded-For": f"10.0.0.{number}"})


def as_page(client) -> object:
    """The gr.Request the page's Stop or close sends for client's session."""
    return type("Request", (), {"session_hash": client.session_hash})()


def name_of(item) -> str:
    """A gallery item's file name, however gradio_client hands it over (a dict, a path, or a pair)."""
    image = item.get("image", item) if isinstance(item, dict) else item
    image = image.get("path", image) if isinstance(image, dict) else image
    return Path(image if isinstance(image, str) else image[0]).name


def test_two_clients_at_once_see_only_their_own_results(server, pictures, controls, visitor):
    _, url = server
    clients = [visitor(url, index + 1) for index in range(2)]
    results = [None, None]

    def work(index):
        first = clients[index].predict(*pictures, *controls(), api_name="/stylize")
        results[index] = (first, clients[index].predict(*pictures, *controls(steps=1), api_name="/stylize"))

    threads = [threading.Thread(target=work, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    histories = [second[4] for _, second in results]
    assert all(len(history) == 2 for history in histories), histories  # each sees its own two results only
    mine = [{name_of(item) for item in history} for history in histories]
    assert not mine[0] & mine[1]
    downloads = [Path(first[3]["value"]).name for first, _ in results]
    assert downloads[0] != downloads[1] and all(len(name) == len("stylized-") + 16 + 4 for name in downloads)


def test_one_waiting_run_per_client_and_stop_drops_it(server, pictures, controls, visitor):
    _, url = server
    client = visitor(url, 1)
    running = client.submit(*pictures, *controls(steps=200), api_name="/stylize")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not running.outputs():
        time.sleep(0.1)
    with pytest.raises(Exception, match="You already have a run waiting or running"):
        client.predict(*pictures, *controls(), api_name="/stylize")
    with pytest.raises(Exception, match="You already have a run waiting or running"):  # another session, same client
        visitor(url, 1).predict(*pictures, *controls(), api_name="/stylize")
    other = visitor(url, 2).submit(*pictures, *controls(), api_name="/stylize")  # another visitor may
    sessions.stop(as_page(client))  # what the page's Stop does for this session
    assert "Stopped at step" in running.result()[1]
    assert "Done:" in other.result()[1]
    assert sessions.runs.waiting() == 0 and "Done:" in client.predict(*pictures, *controls(), api_name="/stylize")[1]


def test_stop_while_waiting_cancels_the_run_when_its_turn_comes(server, pictures, controls, visitor):
    _, url = server
    busy, waiting = visitor(url, 1), visitor(url, 2)
    first = busy.submit(*pictures, *controls(steps=100), api_name="/stylize")
    while not first.outputs():
        time.sleep(0.1)
    queued = waiting.submit(*pictures, *controls(), api_name="/stylize")
    deadline = time.monotonic() + 30
    while sessions.runs.waiting("10.0.0.2") == 0 and time.monotonic() < deadline:  # its claim is in
        time.sleep(0.1)
    sessions.stop(as_page(waiting))
    sessions.stop(as_page(busy))
    assert "Cancelled before it started" in queued.result()[1]
    assert "Stopped at step" in first.result()[1]


def test_a_full_queue_gets_a_clear_message(launch_app, pictures, monkeypatch, controls, visitor):
    monkeypatch.setattr(hosting, "QUEUE_SIZE", 1)
    with launch_app() as (_, url):
        owner = visitor(url, 1)
        first = owner.submit(*pictures, *controls(steps=60), api_name="/stylize")
        while not first.outputs():
            time.sleep(0.1)
        visitor(url, 2).submit(*pictures, *controls(), api_name="/stylize")  # waits: the queue is full
        time.sleep(0.5)
        with pytest.raises(Exception, match="Queue is full"):
            visitor(url, 3).predict(*pictures, *controls(), api_name="/stylize")
        sessions.stop(as_page(owner))


def test_the_work_budget_refuses_before_running_and_the_time_limit_keeps_the_picture(
    server, pictures, monkeypatch, controls
):
    _, url = server
    client = Client(url, verbose=False)
    monkeypatch.setattr(hosting, "MAX_WORK", 0.05)  # 128x96 px x 6 steps is 0.074 megapixel-steps
    with pytest.raises(Exception, match="this run is 0 megapixel-steps but this server allows 0 per run"):
        client.predict(*pictures, *controls(steps=6), api_name="/stylize")
    monkeypatch.setattr(hosting, "MAX_WORK", 200)
    monkeypatch.setattr(hosting, "MAX_SECONDS", 0.0)
    result = client.predict(*pictures, *controls(steps=50), api_name="/stylize")
    assert "limit of 0 s per run was reached; the picture so far is kept" in result[1] and result[3]["value"]
    text = hosting.limits_text()
    assert "megapixel-steps" in text and "at most 0 s per run" in text and "Precision *auto* means" in text


def test_previews_leave_no_files_and_the_session_folder_goes_when_the_page_closes(server, pictures, controls):
    demo, url = server
    client = Client(url, verbose=False)
    cache = Path(demo.GRADIO_CACHE)
    before = len(hosting.files_under(cache))
    job = client.submit(*pictures, *controls(steps=30), api_name="/stylize")
    final = job.result()
    assert len(job.outputs()) >= 3  # several previews were streamed
    added = len(hosting.files_under(cache)) - before
    assert added <= 6, added  # the inputs, the comparison's two pictures and the PNG: no file per preview
    assert demo.delete_cache == (hosting.CACHE_SWEEP, hosting.CACHE_AGE)
    folder = hosting.folders[client.session_hash]
    assert folder.is_dir() and folder.parent == hosting.RESULTS_DIR
    names = {path.name for path in folder.glob("*")}
    assert len(names) == 3 and any(name.startswith("before-") for name in names)  # the PNG and the comparison
    assert {path.name for path in hosting.files_under(cache) if path.name in names} == names  # Gradio copied them
    sessions.end_session(as_page(client))
    assert not folder.exists() and final[3]["value"]
    assert not [path for path in hosting.files_under(cache) if path.name in names]  # and its copies went with the page
    assert hosting.RESULTS_DIR.stat().st_mode & 0o777 == 0o700


def test_old_results_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr(hosting, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(hosting, "get_upload_folder", lambda: str(tmp_path / "gradio"))  # not the real one
    (tmp_path / "abc").mkdir()
    old, new = tmp_path / "abc" / "old.png", tmp_path / "abc" / "new.png"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    hosting.prune_files(now=old.stat().st_mtime + hosting.CACHE_AGE + 1)
    assert not old.exists() and not new.exists()
    new.write_bytes(b"x")
    hosting.prune_files()
    assert new.exists()


def test_files_under_skips_a_folder_that_goes_while_it_looks(tmp_path, monkeypatch):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.png").write_bytes(b"x")
    scandir = os.scandir

    def sweep_first(path):  # the sweep thread empties and removes folder b just before the walk reaches it
        if isinstance(path, str | Path) and Path(path).name == "b":  # rmtree's own scandir calls pass an fd
            shutil.rmtree(path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", sweep_first)
    assert hosting.files_under(tmp_path) == [tmp_path / "a" / "a.png"]


def test_the_work_budget_counts_style_scale_a_second_painting_lbfgs_and_the_steps_overhead():
    from stylize.core.settings import preset

    tiny = preset("seed", size=128, steps=5000)  # 5000 Adam steps at 128 px ran about 600 s: over the budget
    assert costs.run_work(tiny, (96, 128)) > hosting.MAX_WORK
    with pytest.raises(ValueError, match="megapixel-steps but this server allows"):
        hosting.check_budget(tiny, (96, 128))
    adam = preset("seed", size=512, steps=100)
    lbfgs = adam.replace(optimizer="lbfgs")
    assert costs.run_work(lbfgs, (384, 512)) > 1.3 * costs.run_work(adam, (384, 512))  # its line search
    one = costs.run_work(adam, (384, 512), [(512, 512)])
    assert costs.run_work(adam, (384, 512), [(512, 512)] * 2) > one > costs.run_work(adam, (384, 512))
    big_strokes = adam.replace(style_scale=4.0)  # the painting's pass at 16x the output's pixels
    assert costs.run_work(big_strokes, (384, 512), [(512, 512)]) - costs.run_work(adam, (384, 512)) > 10 * (
        one - costs.run_work(adam, (384, 512))
    )


def test_steering_reweights_at_most_every_few_seconds_and_keeps_the_latest(monkeypatch):
    from stylize.gatys.weights import LossWeights

    clock = [100.0]
    monkeypatch.setattr(sessions, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))  # not servers' loops
    first, second, third, fourth = (LossWeights(10.0**n, 1.0, 0.0) for n in range(4))
    claim = sessions.Claim("10.0.0.1", "page")
    claim.wanted = claim.applied = first
    claim.wanted = second
    assert claim.steering() is second  # the first change applies at once
    claim.wanted = third
    clock[0] += 1
    claim.wanted = fourth  # moved again within the pause: the latest wins when it ends
    assert claim.steering() is second
    clock[0] += sessions.STEER_SECONDS
    assert claim.steering() is fourth and claim.steering() is fourth


def test_the_optimizer_the_fast_tabs_and_the_webcam_draw_on_one_memory_budget(
    server, pictures, controls, monkeypatch, make_picture
):
    from studio.tabs import styles, webcam
    from stylize.core import limits

    _, url = server
    monkeypatch.setattr(limits.BUDGET, "total", 4 * 2**30)
    monkeypatch.setattr(limits.BUDGET, "_sized", True)
    photo = (make_picture(48, 64, 1) * 255).astype(np.uint8)
    busy = "needs more memory than is free while other visitors' work runs"
    with limits.BUDGET.reserve(4 * 2**30 - costs.fast_bytes(128) // 2, "another visitor's run"):
        with pytest.raises(Exception, match=busy):
            Client(url, verbose=False).predict(*pictures, *controls(), api_name="/stylize")
        with pytest.raises(Exception, match=busy):
            styles.apply_builtin(photo, "0", 1.0, 128)
        with pytest.raises(Exception, match=busy):
            webcam.webcam_frame(photo, webcam.BUILTIN, None, 1.0, "0")
    assert limits.BUDGET.reserved == 0
    assert styles.apply_builtin(photo, "0", 1.0, 128)[0].shape == (96, 128, 3)
    assert "Done:" in Client(url, verbose=False).predict(*pictures, *controls(), api_name="/stylize")[1]


def test_old_copies_in_gradios_cache_are_pruned_and_the_history_forgets_pruned_results(tmp_path, monkeypatch):
    monkeypatch.setattr(hosting, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(hosting, "get_upload_folder", lambda: str(tmp_path / "gradio"))
    (tmp_path / "gradio" / "abc").mkdir(parents=True)
    ours, theirs = tmp_path / "gradio" / "abc" / "after-0123456789abcdef.webp", tmp_path / "gradio" / "abc" / "x.webp"
    ours.write_bytes(b"x")
    theirs.write_bytes(b"x")  # not one of ours: Gradio's own sweep has the first go at it
    hosting.prune_files(now=ours.stat().st_mtime + hosting.CACHE_AGE + 1)
    assert not ours.exists() and theirs.exists()
    kept = tmp_path / "kept.png"
    kept.write_bytes(b"x")
    assert hosting.add_to_history(str(kept), [str(tmp_path / "pruned.png"), str(kept)]) == [str(kept), str(kept)]


def test_a_time_budget_is_held_to_the_servers_time_limit_not_its_work_limit(monkeypatch):
    from stylize.core.settings import preset

    monkeypatch.setattr(hosting, "MAX_SECONDS", 120.0)
    monkeypatch.setattr(hosting, "MAX_WORK", 0.01)  # exact steps would be refused; a time budget bounds itself
    hosting.check_budget(preset("balanced", size=1024), (768, 1024))
    with pytest.raises(ValueError, match="this run asks for 198 s but this server allows 120 s per run: choose less"):
        hosting.check_budget(preset("best", size=2048), (1536, 2048))
    with pytest.raises(ValueError, match="megapixel-steps"):
        hosting.check_budget(preset("balanced", steps=40), (384, 512))


def test_a_new_size_brings_the_presets_time_at_this_servers_pace_within_its_limit(monkeypatch):
    from studio.tabs.optimize import size_seconds
    from stylize.core import paces
    from stylize.core.settings import preset

    monkeypatch.setattr(hosting, "MAX_SECONDS", 300.0)
    assert size_seconds("best", 2048, 60.0) == preset("best", size=2048).seconds < 300
    paces.remember_tile_step(4 * paces.PROJECT_TILE_STEP, "auto")  # a server four times slower at tile steps
    assert preset("best", size=2048).seconds > 300 and size_seconds("best", 2048, 60.0) == 300.0
    assert size_seconds("best", 512, 60.0) == 240.0  # its whole picture's steps, at that pace
    assert size_seconds("balanced", 2048, 60.0) == preset("balanced", size=2048).seconds  # no tile steps to pace
    assert size_seconds("seed", 2048, 42.0) == 42.0


def connection(*forwarded: str, peer: str = "10.0.0.1") -> HTTPConnection:
    """A request as Starlette sees it, from peer, with one X-Forwarded-For line per string."""
    headers = [(b"x-forwarded-for", line.encode("latin-1")) for line in forwarded]
    return HTTPConnection({"type": "http", "headers": headers, "client": (peer, 5000)})


@pytest.mark.parametrize(
    "hops, forwarded, visitor",
    [
        (1, ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),  # the client wrote the first hop; the proxy appended the last
        (1, ["6.6.6.6", "1.2.3.4"], "1.2.3.4"),  # the proxy added a line after the client's
        (0, ["1.2.3.4"], "10.0.0.1"),  # no proxy: the header is the client's own
        (2, ["6.6.6.6, 1.2.3.4, 10.0.0.2"], "1.2.3.4"),  # the outer proxy saw 1.2.3.4, the inner one the outer
        (2, ["1.2.3.4"], "10.0.0.1"),  # fewer entries than proxies: not through them all
        (1, [], "10.0.0.1"),
        (1, ["1.2.3.4, not-an-address"], "10.0.0.1"),  # malformed
        (1, ["1.2.3.4,"], "10.0.0.1"),
        (1, [""], "10.0.0.1"),
        (1, ["6.6.6.6, 1.2.3.4:5678"], "1.2.3.4"),  # a port is not part of who it is
        (1, ["6.6.6.6, [2001:db8::1]:443"], "2001:db8::1"),
    ],
)
def test_the_visitor_is_the_address_the_trusted_proxies_saw(monkeypatch, hops, forwarded, visitor):
    monkeypatch.setattr(hosting, "PROXY_HOPS", hops)
    assert hosting.client_address(connection(*forwarded)) == visitor  # as the gate asks
    assert hosting.client_address(gr.Request(request=Request(connection(*forwarded).scope))) == visitor


def test_a_request_gradio_kept_as_plain_values_is_read_alike(monkeypatch):
    monkeypatch.setattr(hosting, "PROXY_HOPS", 1)
    kept = gr.Request(headers={"x-forwarded-for": "6.6.6.6, 1.2.3.4"}, client={"host": "10.0.0.1", "port": 1})
    assert hosting.client_address(kept) == "1.2.3.4" and hosting.client_address(None) == "local"


def test_proxy_hops_come_from_the_environment():
    assert hosting.proxy_hops({}) == 0
    assert hosting.proxy_hops({"SPACE_ID": "someone/studio"}) == 1
    assert hosting.proxy_hops({"STYLIZE_BEHIND_PROXY": "1"}) == 1  # the deprecated name for one hop
    assert hosting.proxy_hops({"STYLIZE_BEHIND_PROXY": "0"}) == 0
    assert hosting.proxy_hops({"STYLIZE_PROXY_HOPS": "2", "SPACE_ID": "x", "STYLIZE_BEHIND_PROXY": "1"}) == 2
    assert hosting.proxy_hops({"STYLIZE_PROXY_HOPS": "0", "SPACE_ID": "x"}) == 0  # the host's own count wins
    for wrong in ("-1", "1.5", "two", "\u00b2", "1000"):
        with pytest.raises(ValueError, match=rf"^STYLIZE_PROXY_HOPS is {re.escape(repr(wrong))} but must be a whole"):
            hosting.proxy_hops({"STYLIZE_PROXY_HOPS": wrong})


def test_one_sweep_ages_out_gradios_whole_upload_folder_but_what_the_page_keeps(tmp_path, monkeypatch):
    root = tmp_path / "gradio"
    monkeypatch.setattr(hosting, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(hosting, "get_upload_folder", lambda: str(root))
    files = {
        "deep link": root / "deep_links" / "AbCd-123_x" / "state.json",  # GET /gradio_api/deep_link's
        "upload": root / ("a" * 64) / "photo.png",
        "copy": root / ("b" * 64) / "image.webp",
        "cut off": root / "tmpk3j4h5x",  # an upload Gradio was still writing when its client went
        "ours": root / ("c" * 64) / "after-0123456789abcdef.webp",
        "kept": root / ("d" * 64) / "thumbnail.webp",  # a built-in style's thumbnail, made at start-up
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (root / ("e" * 64)).mkdir()  # Gradio made it a moment ago, for a file it is writing
    page = types.SimpleNamespace(blocks={1: types.SimpleNamespace(keep_in_cache={str(files["kept"])})})
    monkeypatch.setattr(hosting, "_apps", [page])
    made = max(path.stat().st_ctime for path in files.values())
    hosting.prune_files()
    assert all(path.exists() for path in files.values()) and (root / ("e" * 64)).is_dir()
    hosting.prune_files(now=made + hosting.CACHE_AGE + 1)
    assert not files["ours"].parent.exists()  # Gradio does not sweep our results' copies
    assert all(files[name].exists() for name in ("deep link", "upload", "copy", "cut off"))  # its sweep goes first
    hosting.prune_files(now=made + hosting.CACHE_AGE + hosting.CACHE_SWEEP + 1)
    assert sorted(root.rglob("*")) == [files["kept"].parent, files["kept"]]  # empty folders too


@pytest.fixture
def budget(monkeypatch):
    """The process's memory budget, with 1 TiB free: what a call reserves shows in budget.reserved."""
    from stylize.core import limits

    monkeypatch.setattr(limits.BUDGET, "total", 2**40)
    monkeypatch.setattr(limits.BUDGET, "_sized", True)
    return limits.BUDGET


def saved_photo(path: Path, height: int = 48, width: int = 64, channels: int = 3) -> Path:
    Image.fromarray(np.zeros((height, width, channels), np.uint8)).save(path)
    return path


def test_fast_calls_reserve_decoding_their_uploads_as_their_headers_say(tmp_path, monkeypatch, budget):
    from studio import calls
    from studio.tabs import styles

    photo = saved_photo(tmp_path / "photo.png")
    data = photo.read_bytes()  # a data URL's
    assert calls.upload_bytes(str(photo), data, None, np.zeros((2, 2, 3))) == 2 * costs.decode_bytes(64 * 48)
    with calls.fast_call(128, str(photo), None, data):
        assert budget.reserved == costs.fast_bytes(128) + 2 * costs.decode_bytes(64 * 48)
    assert budget.reserved == 0
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(hostile.png_header_only(7000, 7000))  # 49 megapixels by its header, a few bytes on disk
    monkeypatch.setattr(budget, "total", 2**30)  # room for a photo's call, not for decoding 49 megapixels
    assert styles.apply_builtin(str(photo), "0", 1.0, 128)[0].shape == (96, 128, 3)
    with pytest.raises(gr.Error, match="this picture needs more memory than this server has"):
        styles.apply_builtin(str(bomb), "0", 1.0, 128)


def test_a_run_reserves_decoding_its_photo_paintings_and_mask_layers(tmp_path, monkeypatch, budget):
    from studio.tabs import optimize

    photo, layer = saved_photo(tmp_path / "photo.png"), saved_photo(tmp_path / "layer.png", 480, 640, 4)
    seen = []

    def decoding(named):
        seen.append(budget.reserved)
        raise ValueError("stopped here")

    monkeypatch.setattr(optimize, "checked_run", decoding)
    named = {"content": str(photo), "style": str(photo), "second_style": photo.read_bytes(), "mask_value": None}
    with pytest.raises(gr.Error, match="stopped here"):
        next(optimize.claimed_run(None, None, None, "key", named))
    monkeypatch.setattr(optimize, "decoded_mask", lambda value, shape: seen.append(budget.reserved))
    optimize.reserved_mask({"background": None, "composite": None, "layers": [str(layer), None, str(layer)]}, (48, 64))
    assert seen == [3 * costs.decode_bytes(64 * 48), 2 * costs.decode_bytes(640 * 480)] and budget.reserved == 0


def test_restoring_a_result_reserves_decoding_it(tmp_path, monkeypatch, budget, random_vgg16):
    from studio.tabs import optimize
    from stylize.core import images
    from stylize.core.recipe import recipe_text
    from stylize.core.settings import preset

    path = tmp_path / "stylized.png"
    images.save_png(path, np.zeros((300, 400, 3), np.uint8), recipe_text(preset("seed"), {"network": "test"}))
    restore = optimize.make_restore(random_vgg16, "picture", "status", collections.defaultdict(object))
    assert restore(str(path))["picture"].shape == (300, 400, 3)
    monkeypatch.setattr(budget, "total", costs.decode_bytes(400 * 300) - 1)
    with pytest.raises(gr.Error, match="this result needs more memory than this server has"):
        restore(str(path))
