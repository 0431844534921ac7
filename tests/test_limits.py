"""Limits checked before work: container memory, sizes the network can see, non-finite losses, precision, CLI files."""

import math
import os
import stat

import numpy as np
import pytest
from PIL import Image

from stylize import transfer
from stylize.cli import transfer as cli
from stylize.core import costs, limits, precision
from stylize.core.limits import available_memory, check_memory
from stylize.core.precision import resolve_precision
from stylize.core.recipe import settings_from_png
from stylize.core.settings import Settings, preset
from stylize.gatys import loop, networks
from stylize.gatys.loop import LossNotFinite
from stylize.gatys.weights import LossWeights
from stylize.transfer import stylize


def write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_a_container_limit_counts_not_the_hosts_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MEMINFO", write(tmp_path / "meminfo", "MemAvailable:   33554432 kB\n"))  # 32 GB
    v2 = (
        write(tmp_path / "max", "4294967296\n"),
        write(tmp_path / "current", "3221225472\n"),
        write(tmp_path / "stat", "anon 1\ninactive_file 536870912\n"),
        "inactive_file",
    )
    monkeypatch.setattr(limits, "CGROUPS", (v2,))
    assert available_memory() == 4 * 2**30 - 3 * 2**30 + 2**29  # limit - usage + reclaimable cache: 1.5 GB
    # No memory figure reaches a visitor: the size that fits says what to do.
    with pytest.raises(
        ValueError,
        match=r"^a 4096x3072 picture needs more memory than this machine has free: "
        r"choose a size of at most \d+ px$",
    ):
        check_memory((3072, 4096))  # a poster: its tiles' 1.9 GB
    v1 = (write(tmp_path / "limit", "9223372036854771712\n"), str(tmp_path / "none"), str(tmp_path / "none"), "x")
    monkeypatch.setattr(limits, "CGROUPS", (v1,))  # v1's "no limit": the host's figure stands
    assert available_memory() == 32 * 2**30
    monkeypatch.setattr(limits, "MEMINFO", str(tmp_path / "missing"))
    assert available_memory() is None
    check_memory((10_000, 10_000))  # no figure at all: let the run try


def test_the_scaled_painting_and_histogram_matching_are_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "CGROUPS", ())
    monkeypatch.setattr(limits, "MEMINFO", write(tmp_path / "meminfo", "MemAvailable: 3145728 kB\n"))  # 3 GB
    check_memory((384, 512))  # a 512 px run alone fits
    with pytest.raises(ValueError, match="or a smaller style scale"):  # its painting at style scale 4: 2048 px
        check_memory((384, 512), [(1536, 2048)])
    with pytest.raises(ValueError, match="needs more memory"):
        check_memory((384, 512), [], [(8000, 8000)])


def test_a_wide_photo_at_a_small_size_is_refused_in_one_line(random_vgg16, make_picture):
    wide = make_picture(40, 1200, seed=1)
    with pytest.raises(
        ValueError,
        match=r"^the photo \(1200x40\) scaled to 128 px is 128x4 but its shorter side "
        r"must be at least 16 px for the network: use a longer side of at least "
        r"480 px there",
    ):
        next(stylize(wide, make_picture(64, 64, 2), Settings(size=128, steps=2), network=random_vgg16))
    painting = make_picture(30, 400, seed=2)  # fine at style scale 1, too thin at 0.1
    with pytest.raises(ValueError, match=r"^the painting \(400x30\) scaled to 51 px is 51x3"):
        next(
            stylize(
                make_picture(64, 64, 1),
                painting,
                Settings(size=512, steps=2, style_scale=0.1, start_size=None),
                network=random_vgg16,
            )
        )


def test_a_loss_turning_nan_stops_the_run_keeping_the_last_good_picture(random_vgg16, content, style):
    calls = []

    def steer():  # what a NaN weight would do; the app refuses them, this reaches the loop anyway
        calls.append(1)
        return LossWeights(math.nan, 1.0, 1.0) if len(calls) == 2 else None

    records = []
    with pytest.raises(
        LossNotFinite,
        match=r"^the loss became nan at step 3, so the run stopped \(the picture from "
        r"step 2 is kept\)",
    ) as caught:
        for record in stylize(
            content,
            style,
            Settings(size=64, steps=6, preview_every=1, optimizer="adam"),
            network=random_vgg16,
            steer=steer,
        ):
            records.append(record)
    assert caught.value.last is records[-1] and caught.value.last.step == 2
    assert np.isfinite(caught.value.last.losses["total"])


def test_auto_precision_follows_the_cpu_flags(tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "gpu_present", lambda: False)
    monkeypatch.setattr(precision, "CPUINFO", write(tmp_path / "amx", "flags\t\t: fpu sse avx2 amx_bf16 amx_tile\n"))
    assert resolve_precision("auto") == "bfloat16"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx2")  # oneDNN held below its bfloat16: the flags don't count
    assert resolve_precision("auto") == "float32"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    assert resolve_precision("auto") == "bfloat16"
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.setattr(precision, "CPUINFO", write(tmp_path / "zen3", "flags\t\t: fpu sse avx2 avx512f\n"))
    assert resolve_precision("auto") == "float32"
    assert resolve_precision("bfloat16") == "bfloat16"  # asked for explicitly: as asked
    monkeypatch.setattr(precision, "CPUINFO", str(tmp_path / "missing"))
    assert resolve_precision("auto") == "float32"
    monkeypatch.setattr(precision, "gpu_present", lambda: True)
    assert resolve_precision("auto") == "bfloat16"
    assert preset("quick").precision == preset("balanced").precision == "auto"
    assert preset("seed").precision == "float32"


def test_whole_number_floats_are_stored_as_whole_numbers():
    settings = Settings(steps=5.0, size=128.0, seed=3.0, coarse_steps=2.0, start_size=64.0)
    assert (settings.steps, settings.size, settings.seed, settings.start_size) == (5, 128, 3, 64)
    assert all(type(value) is int for value in (settings.steps, settings.size, settings.coarse_steps))
    with pytest.raises(ValueError, match="^steps is 5.5 but must be a whole number"):
        Settings(steps=5.5)
    with pytest.raises(ValueError, match="^style_blend is 5 but must be a list"):
        Settings(style_blend=5)


@pytest.fixture
def files(tmp_path, make_picture):
    Image.fromarray((make_picture(48, 64, 1) * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    Image.fromarray((make_picture(64, 64, 2) * 255).astype(np.uint8)).save(tmp_path / "painting.png")
    return tmp_path


@pytest.fixture
def stand_in(random_vgg16, monkeypatch):
    monkeypatch.setattr(networks, "load_network", lambda *args, **kwargs: random_vgg16)


def run_cli(files, *extra):
    return cli.main(
        [
            str(files / "photo.png"),
            str(files / "painting.png"),
            "--quiet",
            "--size",
            "64",
            "--steps",
            "2",
            "--preset",
            "seed",
            *map(str, extra),
        ]
    )


def test_output_gets_the_users_umask(files, stand_in):
    old = os.umask(0o027)
    try:
        assert run_cli(files, "-o", files / "out.png") == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((files / "out.png").stat().st_mode) == 0o640  # not mkstemp's 0600


def test_an_input_is_never_overwritten_and_the_folder_is_checked_first(files, stand_in, capsys):
    before = (files / "painting.png").read_bytes()
    assert run_cli(files, "-o", files / "painting.png") == 2
    assert "is also an input picture" in capsys.readouterr().err
    assert (files / "painting.png").read_bytes() == before
    (files / "a-file").write_text("")
    assert run_cli(files, "-o", files / "a-file" / "out.png") == 2  # its "folder" is a file
    assert "is not writable" in capsys.readouterr().err


def test_ctrl_c_keeps_the_picture_so_far_with_its_recipe(files, stand_in, monkeypatch, capsys):
    real = transfer.stylize_pictures

    def interrupted(*args, **kwargs):
        for record in real(*args, **kwargs):
            yield record
            if record.step == 4:
                raise KeyboardInterrupt

    monkeypatch.setattr(transfer, "stylize_pictures", interrupted)
    assert run_cli(files, "-o", files / "out.png", "--steps", "8", "--save-every", "2") == 130
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message == f"stopped at step 4: the picture so far is in {files / 'out.png'}"
    assert (files / "out-step0004.png").exists()
    kept, _ = settings_from_png(files / "out.png")  # the steps it took, to replay it
    assert kept.steps == 8


def test_a_nan_run_exits_2_and_keeps_the_last_good_picture(files, stand_in, monkeypatch, capsys):
    last = loop.Progress(3, 8, np.zeros((48, 64, 3), np.uint8), {"total": 1.0}, 1.0)

    def failing(*args, **kwargs):
        yield last
        raise LossNotFinite(4, math.nan, last)

    monkeypatch.setattr(transfer, "stylize_pictures", failing)
    assert run_cli(files, "-o", files / "out.png") == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.startswith("error: the loss became nan at step 4") and message.endswith("out-step0003.png")
    assert (files / "out-step0003.png").exists() and not (files / "out.png").exists()


def test_one_memory_budget_is_shared_by_every_job(monkeypatch):
    monkeypatch.setenv("STYLIZE_MEMORY_BUDGET_MB", "2048")
    budget = limits.MemoryBudget()
    one_run = costs.run_bytes((384, 512))  # about 0.9 GB with the fixed part
    assert costs.MEMORY["optimize"].fixed < one_run < 2**30
    with budget.reserve(one_run, "this run"):
        with budget.reserve(one_run, "this run"):  # two fit side by side
            with pytest.raises(
                ValueError,
                match="^this run needs more memory than is free while other visitors' work runs: try again in a minute",
            ):
                with budget.reserve(one_run, "this run"):
                    pass
        assert budget.reserved == one_run
    assert budget.reserved == 0  # every way out gives it back
    with pytest.raises(
        ValueError,
        match=r"^this run needs more memory than this server has: choose a size of at "
        r"most \d+ px$",
    ):
        with budget.reserve(costs.run_bytes((4096, 4096)), "this run", (4096, 4096)):
            pass


def test_the_memory_formula_lies_above_the_measured_peaks():
    # bench/memory.py, balanced preset, offline VGG16 then ImageNet VGG19: (output pixels, MB above the loaded process)
    for pixels, peak_mb in [
        (12288, 217),
        (49152, 301),
        (110592, 499),
        (196608, 819),
        (442368, 1625),
        (49152, 346),
        (196608, 830),
        (442368, 1712),
    ]:
        height = int((pixels * 3 / 4) ** 0.5)
        estimate = costs.run_bytes((height, pixels // height))
        assert peak_mb * 2**20 <= estimate <= 1.3 * peak_mb * 2**20, (pixels, estimate / 2**20)
