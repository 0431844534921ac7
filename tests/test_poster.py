"""Posters: the tile layout and its feathering, the tiles' texture targets, and whole runs at a shrunk scale (the
poster threshold, base and tile side made small so that a random network paints one in seconds)."""

import numpy as np
import pytest
import tensorflow as tf

from stylize import Settings, preset
from stylize.core import costs, images, paces
from stylize.core import settings as settings_module
from stylize.core.precision import resolve_precision
from stylize.core.tiles import feather, layout
from stylize.gatys import loop
from stylize.gatys.losses import gram_matrices
from stylize.poster import detail, run
from stylize.transfer import stylize, warm_up


@pytest.mark.parametrize("shape", [(3072, 4096), (1536, 2048), (700, 1000), (300, 5000), (512, 512), (100, 130)])
def test_tiles_cover_the_picture_and_overlap_their_neighbours(shape):
    tiles = layout(shape, 512, 64)
    covered = np.zeros(shape, np.int32)
    for tile in tiles:
        assert 0 < tile.shape[0] <= 512 and 0 < tile.shape[1] <= 512
        covered[tile.window] += 1
    assert covered.min() >= 1
    rows = sorted({tile.top for tile in tiles})
    ends = sorted({tile.bottom for tile in tiles})
    assert all(end - start >= 64 for start, end in zip(rows[1:], ends[:-1]))  # each row overlaps the one above


def test_feathering_keeps_a_picture_that_every_tile_agrees_with_and_hides_the_borders():
    shape = (700, 1000)
    picture = np.random.default_rng(0).uniform(0, 1, (*shape, 3)).astype(np.float32)
    canvas = picture.copy()
    for tile in layout(shape, 512, 64):
        weights = feather(tile, 64)
        canvas[tile.window] = weights * picture[tile.window] + (1 - weights) * canvas[tile.window]
    np.testing.assert_allclose(canvas, picture, atol=1e-6)  # tiles that agree leave no seam
    tile = layout(shape, 512, 64)[0]  # the top-left tile: neighbours to its right and below only
    weights = feather(tile, 64)[..., 0]
    assert weights[0, 0] == 1.0 and weights[200, 200] == 1.0
    assert weights[-1, 200] < 0.01 and weights[200, -1] < 0.01  # its own border effects never show
    assert np.all(np.diff(weights[200, -64:]) < 0)  # a smooth ramp down
    whole = feather(layout((100, 130), 512, 64)[0], 64)
    assert np.all(whole == 1.0)


def test_a_paintings_texture_targets_are_the_same_whole_or_in_pieces(random_vgg19, make_picture, monkeypatch):
    network = random_vgg19.truncated(detail.DETAIL_LAYERS)
    painting = make_picture(192, 256, seed=3)
    whole = gram_matrices(network(tf.constant(painting[None])), network.style_layers)
    monkeypatch.setattr(detail, "GRAM_TILE", 128)  # 2 x 2 pieces
    pieces = detail.painting_grams(network, painting)
    for name in network.style_layers:
        scale = float(tf.reduce_mean(tf.abs(whole[name])))
        assert float(tf.reduce_mean(tf.abs(pieces[name] - whole[name]))) < 0.1 * scale  # only the pieces' borders


def test_a_truncated_network_computes_only_its_layers(random_vgg19, content):
    network = random_vgg19.truncated(detail.DETAIL_LAYERS)
    features = network(tf.constant(content[None]))
    assert set(features) == set(detail.DETAIL_LAYERS) and network.content_layers == ()
    assert len(network.model.layers) < len(random_vgg19.model.layers)
    assert random_vgg19.truncated(detail.DETAIL_LAYERS) is network  # made once


@pytest.fixture
def small_posters(monkeypatch):
    """Posters above 96 px, on a 64 px base (their settings: 64 px tiles overlapping by 8)."""
    monkeypatch.setattr(settings_module, "POSTER_FROM", 96)
    monkeypatch.setattr(settings_module, "POSTER_BASE", 64)
    monkeypatch.setattr(run, "POSTER_BASE", 64)
    monkeypatch.setattr(run, "PREVIEW_SECONDS", 0.0)  # a record after every tile


def test_a_poster_is_painted_whole_then_in_tiles_and_its_recipe_replays_it(small_posters, random_vgg19, make_picture):
    photo, painting = make_picture(90, 120, seed=4), make_picture(80, 80, seed=5)
    settings = Settings(size=160, steps=3, start_size=None, init="content", tile_size=64)
    paces_free_best = preset("best", size=2048).seconds
    assert settings.poster and settings.sides() == [64] and not paces.measured("auto")
    records = list(stylize(photo, painting, settings, network=random_vgg19))
    last = records[-1]
    # Its tiles' steps were timed: best's next default time at a poster's size counts this machine's pace.
    assert paces.measured("auto") and paces.measured(resolve_precision("auto"))
    assert preset("best", size=2048).seconds != paces_free_best
    assert last.done and not any(record.done for record in records[:-1])
    assert last.image.shape == (120, 160, 3)  # the full size
    assert records[0].image.shape == (48, 64, 3)  # the base
    tiles = layout((120, 160), 64, 8)
    assert len(last.settings.tile_steps) == len(tiles) and all(
        steps == settings_module.DETAIL_STEPS for steps in last.settings.tile_steps
    )
    assert last.step == 3 + sum(last.settings.tile_steps) and last.settings.steps == 3
    # Seen whole, the tiles changed detail only: at the fidelity term's resolution the picture is still the base's.
    base = next(r for r in reversed(records) if r.image.shape == (48, 64, 3)).image.astype(np.float32) / 255.0
    final = last.image.astype(np.float32) / 255.0
    coarse = (30, 40)  # a quarter of the output's side (run.FIDELITY_FACTOR)
    enlarged = images.resize(base, (120, 160))
    assert np.abs(final - enlarged).mean() > 0.01  # the tiles did change the pixels
    assert (
        np.abs(images.resize(final, coarse) - images.resize(enlarged, coarse)).mean()
        < 0.5 * np.abs(final - enlarged).mean()
    )
    again = list(stylize(photo, painting, last.settings, network=random_vgg19))[-1]
    np.testing.assert_array_equal(again.image, last.image)


def test_the_instant_details_share_is_the_one_whose_texture_is_nearest_the_paintings(
    random_vgg19, make_picture, monkeypatch
):
    network = random_vgg19.truncated(detail.DETAIL_LAYERS)
    painting = make_picture(128, 128, seed=6)
    start = images.resize(images.resize(painting, (32, 32)), (128, 128))  # the painting without its fine texture
    missing = painting - start
    assert run.detail_share(start, missing, network, [painting]) == 1.0  # all of it gives the painting
    assert run.detail_share(start, 2.0 * missing, network, [painting]) == 0.5  # twice too bold: half
    assert run.detail_share(start, -missing, network, [painting]) == 0.0  # the wrong way: none
    assert run.detail_share(start, 2.0 * missing, network, [painting, start], (1.0, 0.0)) == 0.5  # blend weights
    # No time to compare the shares: the whole detail, as before there was a choice.
    assert run.detail_share(start, 2.0 * missing, network, [painting], deadline=loop.clock()) == 1.0


def test_a_posters_recipe_keeps_its_detail_share_and_a_new_budget_chooses_again(
    small_posters, random_vgg19, make_picture
):
    photo, painting = make_picture(90, 120, seed=4), make_picture(80, 80, seed=5)
    settings = Settings(size=160, steps=2, start_size=None, init="content", tile_size=64, tile_steps=(0,) * 6)
    last = list(stylize(photo, painting, settings, network=random_vgg19))[-1]
    assert last.settings.tile_detail in run.DETAIL_SHARES
    shares = {}
    for share in (0.0, 1.0):
        replay = last.settings.replace(tile_detail=share)
        shares[share] = list(stylize(photo, painting, replay, network=random_vgg19))[-1]
        assert shares[share].settings.tile_detail == share
    assert np.abs(shares[1.0].image.astype(int) - shares[0.0].image.astype(int)).mean() > 1  # the detail shows
    assert preset("balanced", size=2048).replace(tile_detail=0.5).tile_detail == 0.5
    assert settings_module.overridden(last.settings, seconds=60.0).tile_detail is None
    with pytest.raises(ValueError, match="tile_detail is 1.5"):
        Settings(size=2048, tile_detail=1.5)


def test_stopping_a_poster_among_its_tiles_keeps_the_full_size_picture(small_posters, random_vgg19, make_picture):
    photo, painting = make_picture(90, 120, seed=4), make_picture(80, 80, seed=5)
    settings = Settings(size=160, steps=2, start_size=None, init="content", tile_size=64, tile_steps=(2,) * 6)
    run_records = stylize(photo, painting, settings, network=random_vgg19)
    seen = []
    for record in run_records:
        seen.append(record)
        if record.image.shape == (120, 160, 3):
            run_records.close()
            break
    kept = seen[-1]
    assert not kept.done and kept.image.shape == (120, 160, 3)
    assert kept.settings.tile_steps[0] == 2 and 0 in kept.settings.tile_steps  # the tiles not reached: 0 steps
    with pytest.raises(ValueError, match="tile_steps has 2 counts but a 160x120 poster has 6 tiles"):
        list(stylize(photo, painting, settings.replace(tile_steps=(1, 1)), network=random_vgg19))


def test_a_budget_with_no_time_for_tile_steps_spends_none_on_their_probe(
    small_posters, random_vgg19, make_picture, monkeypatch
):
    photo, painting = make_picture(90, 120, seed=4), make_picture(80, 80, seed=5)
    monkeypatch.setattr(settings_module, "BASE_MOST_SECONDS", 5.0)
    monkeypatch.setattr(run, "FASTEST_TILE_PACE", 1e6)  # no time left could give every tile a step

    def probe(*_):
        raise AssertionError("the tiles' pace was probed though no tile could take a step")

    monkeypatch.setattr(run, "probe", probe)
    settings = Settings(size=160, seconds=6.0, start_size=None, init="content", tile_size=64)
    last = list(stylize(photo, painting, settings, network=random_vgg19))[-1]
    assert last.done and last.image.shape == (120, 160, 3) and last.settings.tile_steps == (0,) * 6
    again = list(stylize(photo, painting, last.settings, network=random_vgg19))[-1]  # its recipe: 0 steps a tile
    np.testing.assert_array_equal(again.image, last.image)  # each tile put back as it was, not blurred


def test_a_posters_tiles_share_the_time_budget_evenly_or_none_takes_a_step():
    tiles = layout((1536, 2048), 512, 64)
    pace = run.TilePace(Settings(size=2048, seconds=120.0), tiles, deadline=100.0)
    pace.taken.append(0)
    assert pace.wanted(0, 10.0) == run.MOST_TILE_STEPS  # no pace yet (the run probes it first)
    pace.measured(0.8, 512 * 512)  # 0.8 s a step on a full tile: 3.05 s a step per megapixel
    megapixels = sum(t.shape[0] * t.shape[1] for t in tiles) / 1e6
    # Each tile's first step costs one more (run.FIRST_TILE_STEP_EXTRA): 70 s at 1024 px had ended at 72 s.
    expected = int((100.0 - 40.0) / (0.8 / (512 * 512 / 1e6) * megapixels)) - 1
    assert expected > 1 and pace.wanted(0, 40.0) == expected
    pace.taken[0] = 1
    assert pace.wanted(0, 99.9) == 1  # late, once started: each tile still gets a step
    # A started tile's steps (its first's extra too) were spent from the time left: the plan stays.
    assert pace.wanted(0, 40.0 + 2 * 0.8) == expected
    assert 0 < pace.seconds_left(40.0) <= 60.0 + run.FINISH_SECONDS
    short = run.TilePace(Settings(size=2048, seconds=120.0), tiles, deadline=100.0)
    short.taken.append(0)
    short.measured(0.8, 512 * 512)
    assert short.wanted(0, 95.0) == 0 and short.skip  # not a step for every tile: none for any
    assert short.wanted(5, 95.0) == 0 and short.planned() == 0


def test_poster_settings_and_costs():
    assert not Settings(size=768).poster and Settings(size=769).poster
    assert Settings(size=4096, start_size=256).sides() == [256, 362, 512]
    assert preset("balanced", size=2048).seconds == 76 and preset("balanced", size=4096).seconds == 113
    assert preset("balanced", size=512).seconds == 60 and preset("balanced", size=4096, seconds=30).seconds == 30
    with pytest.raises(ValueError, match="tile_steps is given but size 512 is not a poster"):
        Settings(size=512, tile_steps=(3,))
    with pytest.raises(ValueError, match="tile_steps and seconds are both set"):
        Settings(size=2048, seconds=60, tile_steps=(3,))
    with pytest.raises(ValueError, match="tile_steps count is 501"):
        Settings(size=2048, tile_steps=(501,))
    assert costs.run_bytes((3072, 4096)) < 3 * 2**30  # the bound, whatever the size
    assert costs.run_bytes((1536, 2048)) < costs.run_bytes((3072, 4096))
    assert costs.run_bytes((768, 1024)) >= costs.run_bytes((384, 512))  # the base is painted first
    side = costs.fitting_side((3072, 4096), costs.run_bytes((3072, 4096)), 1.0 * 2**30)
    assert 1024 < side < 4096 and costs.run_bytes(images.scaled_shape(3072, 4096, side)) <= 1.0 * 2**30
    exact = Settings(size=2048, tile_steps=(10,) * 20)
    assert costs.run_work(exact, (1536, 2048)) > costs.run_work(exact.replace(tile_steps=(1,) * 20), (1536, 2048))


def test_a_posters_base_takes_the_steps_of_balanceds_minute_at_this_machines_pace():
    best = preset("best", size=2048)
    base, detail = run.budget_split(best, (1536, 2048))
    assert base == settings_module.BASE_MOST_SECONDS and base + detail == best.seconds
    balanced = preset("balanced", size=4096)
    base, detail = run.budget_split(balanced, (3072, 4096))
    assert base <= settings_module.BASE_MOST_SECONDS and base + detail == balanced.seconds and detail > 40
    paces.remember_tile_step(1.1 * paces.PROJECT_TILE_STEP, "float32")  # within the project's own spread
    assert preset("best", precision="float32").seconds == 60
    paces.remember_tile_step(4 * paces.PROJECT_TILE_STEP, "float32")  # a machine four times slower
    assert preset("best", precision="float32").seconds == 240  # its whole picture: balanced's steps, not its minute
    assert preset("balanced", precision="float32").seconds == 60  # a preset of time stays its time
    slow_best = preset("best", size=2048, precision="float32")
    base, detail = run.budget_split(slow_best, (1536, 2048))
    assert base == 240 and base + detail == slow_best.seconds
    base, _ = run.budget_split(preset("balanced", size=2048, precision="float32", seconds=1000), (1536, 2048))
    assert base == 240  # a long budget's whole picture gets those steps too, not more
    base, _ = run.budget_split(preset("balanced", size=2048, precision="float32"), (1536, 2048))
    assert base == pytest.approx(60, abs=1)  # and balanced's default keeps its minute (its budget is rounded)


def test_same_whole_gives_the_whole_pictures_low_frequencies_and_keeps_the_detail(make_picture):
    rng = np.random.default_rng(0)
    whole = 0.2 + 0.6 * make_picture(32, 48, 0)
    detail = rng.normal(0.0, 0.05, (128, 192, 3)).astype(np.float32)
    picture = run.same_whole(np.full((128, 192, 3), 0.5, np.float32) + detail, whole)
    shrunk = tf.image.resize(picture, whole.shape[:2], method="bilinear", antialias=True).numpy()
    assert np.abs(shrunk - whole).mean() < 0.002  # seen whole, it is the whole picture (one round: 0.0034)
    assert np.std(picture - images.resize(whole, picture.shape[:2])) > 0.03  # the fine detail stays


def test_the_time_left_foresees_the_instant_detail_alone_where_the_tiles_cant_take_a_step_at_this_machines_pace(
    monkeypatch,
):
    shape, settings = (3072, 4096), Settings()  # 12.6 megapixels, in 63 tiles of 16.5 together
    instant = run.CHOICE_SECONDS + run.INSTANT_DETAIL_PACE * 12.58
    monkeypatch.setattr(paces, "_tile_step", {"auto": 2.6})  # 43 s for a step on every tile
    assert run.detail_eta(50.0, shape, settings) == pytest.approx(instant, rel=0.01)
    assert run.detail_eta(200.0, shape, settings) == 200.0  # time for steps: the tiles will use their share
    monkeypatch.setattr(paces, "_tile_step", {"auto": 12.0})  # a slower machine: 198 s for a step on every tile
    assert run.detail_eta(200.0, shape, settings) == pytest.approx(instant, rel=0.01)
    assert run.detail_eta(5.0, shape, settings) == 5.0 and run.detail_eta(None, shape, settings) is None


def test_a_tile_put_on_a_greyscale_paintings_poster_adds_no_colour(make_picture):
    grey_base = np.repeat(make_picture(16, 16, 1)[..., :1], 3, axis=-1)
    start = images.resize(grey_base, (64, 64))
    tile = run.poster_tiles((64, 64), Settings(size=1024, tile_size=64))[0]
    assert tile.shape == (64, 64)

    def put(chroma: float) -> np.ndarray:
        canvas = run.Canvas(start.copy(), start, 0.25, None, None, 8, 0.25, chroma)
        speckled = start + np.random.default_rng(0).normal(0.0, 0.1, start.shape).astype(np.float32)
        canvas.put(tile, np.clip(speckled, 0, 1), start.copy())
        return canvas.picture

    def colour(picture):  # the largest difference between a pixel's channels
        return float(np.abs(picture - picture.mean(-1, keepdims=True)).max())

    assert colour(put(chroma=0.0)) < 0.01  # a greyscale painting's (chroma_spread 0): its steps stay grey
    assert colour(put(chroma=1.0)) > 0.1  # a colourful painting's keep their colour


def test_loading_measures_the_tile_pace_that_bests_time_at_a_posters_size_counts(random_vgg19):
    assert not paces.measured("float32")
    project = preset("best", size=2048, precision="float32").seconds
    warm_up(random_vgg19, "float32")
    assert paces.measured("float32") and not paces.measured("bfloat16")
    measured = paces.tile_step("float32")
    extra = (
        (settings_module.BEST_TILE_STEPS + settings_module.FIRST_TILE_STEP_EXTRA)
        * (measured - paces.PROJECT_TILE_STEP)
        * 20
        * 512
        * 512
        / 1e6
    )
    extra += 60 * paces.slowdown("float32") - 60  # its whole picture's steps too, where not at the project's pace
    assert preset("best", size=2048, precision="float32").seconds == pytest.approx(project + extra, abs=1.0)
