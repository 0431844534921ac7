"""The optimizer loop end to end on tiny pictures with random networks, and the seed preset against the reference."""

import numpy as np
import pytest
import tensorflow as tf

from stylize import PRESETS, Settings, preset, stylize
from stylize.core import images
from stylize.gatys.objective import style_targets

import seed_reference


def test_seed_preset_reproduces_the_reference_program(random_vgg19, content, style):
    steps = 5
    reference = list(seed_reference.run(random_vgg19.model, content, style, steps, max_dim=64))
    reference_losses, reference_image = reference[:-1], reference[-1]
    records = list(stylize(content, style, preset("seed", size=64, steps=steps, preview_every=1), network=random_vgg19))
    engine_losses = [record.losses["total"] for record in records[1:]]
    assert len(engine_losses) == steps
    np.testing.assert_allclose(engine_losses, reference_losses, rtol=1e-4)
    # Pixels whose gradient is near zero may step either way (Adam's first steps are sign-like, and float sums
    # differ in order), so compare the pictures on average; the losses above are the exact check.
    mean_difference = np.abs(records[-1].image / 255.0 - reference_image).mean()
    assert mean_difference < 2e-3, mean_difference


def test_records_arrive_at_the_cadence_with_uint8_pictures(random_vgg19, content, style):
    records = list(stylize(content, style, Settings(size=64, steps=6, preview_every=4), network=random_vgg19))
    assert [r.step for r in records] == [0, 4, 6]
    assert all(r.total == 6 for r in records)
    assert records[0].losses == {}
    for record in records:
        assert record.image.dtype == np.uint8 and record.image.shape == (48, 64, 3)
    assert set(records[-1].losses) == {"style", "content", "tv", "total"}
    assert all(np.isfinite(v) for v in records[-1].losses.values())
    assert records[-1].losses["total"] < records[1].losses["total"]
    assert records[-1].done and not records[0].done
    assert records[-1].elapsed >= records[0].elapsed


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_runs_previews_and_lowers_the_objective(random_vgg19, content, style, name):
    settings = preset(name, size=64, steps=4, preview_every=1)
    if settings.start_size:
        assert settings.schedule() == [(settings.size, 4)]  # a preset's first scale above it is skipped
        settings = settings.replace(start_size=32, coarse_steps=2)
    records = list(stylize(content, style, settings, network=random_vgg19))
    assert [r.step for r in records] == list(range(settings.total_steps + 1))
    assert records[-1].image.shape == (48, 64, 3)  # the full size, whatever scale it started at
    totals = [r.losses["total"] for r in records[1:]]
    first_full_size = settings.total_steps - settings.steps
    assert totals[-1] < totals[first_full_size], totals


def test_coarse_to_fine_starts_small(random_vgg19, content, style):
    settings = Settings(size=64, steps=2, start_size=32, coarse_steps=2, preview_every=1)
    assert settings.schedule() == [(32, 2), (45, 2), (64, 2)]
    records = list(stylize(content, style, settings, network=random_vgg19))
    assert records[1].image.shape == (24, 32, 3)
    assert records[-1].image.shape == (48, 64, 3)


def test_lbfgs_beats_adam_in_the_same_steps(random_vgg19, content, style):
    def final_loss(optimizer):
        settings = Settings(size=64, steps=8, optimizer=optimizer, preview_every=8)
        return list(stylize(content, style, settings, network=random_vgg19))[-1].losses["total"]

    assert final_loss("lbfgs") < final_loss("adam")


def test_bfloat16_objective_stays_close_to_float32(random_vgg19, content, style):
    def first_loss(precision):
        settings = Settings(size=64, steps=1, precision=precision)
        return list(stylize(content, style, settings, network=random_vgg19))[-1].losses["total"]

    assert first_loss("bfloat16") == pytest.approx(first_loss("float32"), rel=0.05)


def test_closing_the_generator_stops_an_lbfgs_run(random_vgg19, content, style, monkeypatch):
    from stylize.gatys import loop

    step_runs = []  # every optimizer.steps generator the loop starts
    make_optimizer = loop.make_optimizer

    def recording(settings):
        optimizer = make_optimizer(settings)
        steps = optimizer.steps
        optimizer.steps = lambda *arguments: step_runs.append(steps(*arguments)) or step_runs[-1]
        return optimizer

    monkeypatch.setattr(loop, "make_optimizer", recording)
    run = stylize(
        content,
        style,
        Settings(size=64, steps=50, optimizer="lbfgs", preview_every=1, init="content"),
        network=random_vgg19,
    )
    assert next(run).step == 0
    assert next(run).step == 1
    assert step_runs and step_runs[-1].gi_frame is not None  # L-BFGS suspended mid-scale, 49 steps to go
    run.close()  # must return promptly, closing the optimizer's own generator (scipy's routine) with it
    assert all(steps.gi_frame is None for steps in step_runs)


def test_style_targets_are_cached_per_picture(random_vgg19, style):
    first = style_targets(random_vgg19, style)
    assert style_targets(random_vgg19, style.copy()) is first
    assert style_targets(random_vgg19, 1.0 - style) is not first


def test_same_settings_and_seed_give_the_same_picture(random_vgg19, content, style):
    settings = Settings(size=64, steps=3, init="noise", seed=7, preview_every=3)
    first = list(stylize(content, style, settings, network=random_vgg19))[-1].image
    again = list(stylize(content, style, settings, network=random_vgg19))[-1].image
    other = list(stylize(content, style, settings.replace(seed=8), network=random_vgg19))[-1].image
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_default_weights_come_from_the_network(random_vgg16, content, style):
    records = list(stylize(content, style, Settings(size=64, steps=1, tv_weight=0.0), network=random_vgg16))
    assert records[-1].losses["tv"] == 0.0
    assert records[-1].network.startswith("VGG16")


def _scaled(network, factor: float):
    """The same network with every feature map multiplied by factor (as another network's layer scales would be)."""
    from stylize.gatys.networks import FeatureNetwork

    return FeatureNetwork(
        network.name, lambda batch: {k: factor * v for k, v in network.model(batch).items()}, network.preprocess
    )


def test_normalised_terms_are_one_for_the_photo_and_ignore_the_networks_scale(random_vgg16, content, style):
    from stylize.gatys.objective import build_objective
    from stylize.gatys.weights import LossWeights

    weights = LossWeights(style=2.0, content=3.0, tv=0.5)
    losses = [
        build_objective(network, content, style, weights, normalize=True)(tf.constant(content[None]))
        for network in (random_vgg16, _scaled(random_vgg16, 10.0))
    ]
    for terms in losses:  # each layer's style term is 1 for the photo, so the sum is the weight; TV likewise
        assert float(terms["style"]) == pytest.approx(2.0, rel=1e-4)
        assert float(terms["content"]) == pytest.approx(0.0, abs=1e-6)
        assert float(terms["tv"]) == pytest.approx(0.5, rel=1e-4)
    painting = tf.constant(style[None, :48, :64])
    plain, scaled = [
        build_objective(network, content, style, weights, normalize=True)(painting)
        for network in (random_vgg16, _scaled(random_vgg16, 10.0))
    ]
    for term in ("style", "content", "tv"):  # x10 features: raw terms x100 or x10000, normalised ones unchanged
        assert float(scaled[term]) == pytest.approx(float(plain[term]), rel=1e-3)
    raw_plain, raw_scaled = [
        build_objective(network, content, style, weights)(painting)
        for network in (random_vgg16, _scaled(random_vgg16, 10.0))
    ]
    assert float(raw_scaled["style"]) == pytest.approx(1e4 * float(raw_plain["style"]), rel=1e-3)


def test_strength_scales_the_style_weight_and_explicit_weights_win(random_vgg16):
    from stylize.gatys.weights import loss_weights, strength_factor

    assert [strength_factor(s) for s in (5.0, 7.5, 2.5)] == pytest.approx([1.0, 10.0, 0.1])
    middle = loss_weights(Settings(), random_vgg16)
    stronger = loss_weights(Settings(strength=7.5), random_vgg16)
    assert stronger.style == pytest.approx(10 * middle.style) and stronger.content == middle.content
    assert loss_weights(Settings(strength=9.0, style_weight=0.3), random_vgg16).style == 0.3
    legacy = loss_weights(Settings(normalize=False), random_vgg16)
    assert (legacy.style, legacy.content, legacy.tv) == (0.1, 1e3, 1.0)  # the raw formula's own defaults


def test_the_content_layer_chooses_the_content_features_and_strengths_style_weight(random_vgg16, content, style):
    from stylize.core.settings import CONTENT_LAYERS
    from stylize.gatys.objective import build_objective
    from stylize.gatys.weights import CONTENT_LAYER_STYLE, LossWeights, loss_weights

    assert set(CONTENT_LAYER_STYLE) == set(CONTENT_LAYERS)
    deep, finer = (loss_weights(Settings(content_layer=layer), random_vgg16) for layer in CONTENT_LAYERS)
    assert finer.style == pytest.approx(2.5 * deep.style) and (finer.content, finer.tv) == (deep.content, deep.tv)
    raw = [loss_weights(Settings(content_layer=layer, normalize=False), random_vgg16) for layer in CONTENT_LAYERS]
    assert raw[0] == raw[1]  # the raw formula's balance was only ever set for block5_conv2
    for layer, reduction in (("block5_conv2", 16), ("block4_conv2", 8)):
        objective = build_objective(random_vgg16, content, style, LossWeights(1, 1, 1), content_layers=(layer,))
        assert list(objective.content_targets) == [layer]
        assert tuple(objective.content_targets[layer].shape[1:3]) == (48 // reduction, 64 // reduction)
    runs = {
        layer: list(stylize(content, style, Settings(size=64, steps=3, content_layer=layer), network=random_vgg16))[-1]
        for layer in CONTENT_LAYERS
    }
    assert runs["block4_conv2"].settings.content_layer == "block4_conv2"  # the recipe replays it
    replayed = list(stylize(content, style, runs["block4_conv2"].settings, network=random_vgg16))[-1]
    np.testing.assert_array_equal(replayed.image, runs["block4_conv2"].image)
    assert np.abs(runs["block4_conv2"].image.astype(int) - runs["block5_conv2"].image).mean() > 0.5


@pytest.mark.parametrize("strength", [0.0, 2.5, 5.0])
def test_palette_start_takes_the_paintings_colours_in_proportion_to_strength(content, style, strength):
    from stylize.core.color import match_colour_statistics
    from stylize.gatys.loop import initial_picture

    start = initial_picture(Settings(init="palette", strength=strength), content, style)
    share = strength / 5.0
    np.testing.assert_allclose(start, content + share * (match_colour_statistics(content, style) - content), atol=1e-6)


def test_instant_start_at_strength_zero_is_the_photo_itself(content, style):
    from stylize.gatys.loop import initial_picture
    from stylize.transfer import instant_start

    np.testing.assert_array_equal(
        initial_picture(Settings(init="instant", strength=0.0), content, style, instant_start), content
    )
    stylised = initial_picture(Settings(init="instant"), content, style, instant_start)
    assert stylised.shape == content.shape and np.abs(stylised - content).mean() > 0.02


def test_the_loop_is_handed_its_instant_start_and_refuses_to_run_without_one(random_vgg19, content, style):
    from stylize.gatys import loop

    shares = []

    def start(photo, painting, share):
        shares.append(share)
        return np.full(photo.shape, 128, np.uint8)

    settings = Settings(size=64, steps=1, coarse_steps=0, init="instant", strength=2.5, preview_every=1)
    first = next(loop.stylize(content, style, settings, network=random_vgg19, instant=start))
    assert shares == [0.5] and np.all(first.image == 128)  # strength 2.5 of the middle 5: half the style
    with pytest.raises(ValueError, match="no instant start"):
        next(loop.stylize(content, style, settings, network=random_vgg19))


def test_records_carry_time_left_weights_and_the_settings_in_use(random_vgg19, content, style):
    from stylize.gatys.weights import LossWeights, loss_weights

    settings = Settings(size=64, steps=6, optimizer="adam", preview_every=1)
    steered, asked = LossWeights(style=3.0, content=2.0, tv=0.5), []

    def steer():  # asked before every step but the last: new weights from the third on
        asked.append(1)
        return steered if len(asked) >= 3 else None

    records = list(stylize(content, style, settings, network=random_vgg19, steer=steer))
    assert [r.eta is None for r in records] == [True, True, False, False, False, False, True]
    assert all(r.eta > 0 for r in records[2:-1])
    before, after = records[2], records[-1]
    assert before.weights == loss_weights(settings, random_vgg19) and before.settings == settings
    assert before.steered_at is None and before.steering_note == ""
    assert after.weights == steered and after.steered_at == 3
    assert (after.settings.style_weight, after.settings.content_weight, after.settings.tv_weight) == (3.0, 2.0, 0.5)
    assert after.settings.replace(style_weight=None, content_weight=None, tv_weight=None) == settings
    assert after.steering_note.startswith("Weights changed at step 3: style 3,")


def test_a_time_budget_ends_in_time_and_its_recipe_replays_the_picture(
    random_vgg19, content, style, monkeypatch, tmp_path
):
    import itertools

    from stylize.core.recipe import recipe_text, settings_from_png
    from stylize.gatys import loop

    ticks = itertools.count()
    monkeypatch.setattr(loop, "clock", lambda: next(ticks) * 0.05)  # every look at the clock: 50 ms later
    settings = Settings(size=64, start_size=32, coarse_steps=3, seconds=6.0, preview_every=1, init="content")
    records = list(stylize(content, style, settings, network=random_vgg19))
    last = records[-1]
    assert last.done and sum(r.done for r in records) == 1 and 5.5 < last.elapsed <= 6.5  # nearest the budget
    assert last.image.shape == (48, 64, 3) and last.step > 6
    assert all(r.total > r.step for r in records[:-1]) and last.total == last.step
    assert last.settings.seconds is None and sum(last.settings.scale_steps) == last.step
    assert last.settings.scale_steps[-1] >= 1 and all(n <= 3 for n in last.settings.scale_steps[:-1])
    # The result's PNG recipe runs exactly those steps again, with no clock: the same picture
    path = tmp_path / "result.png"
    images.save_png(path, last.image, recipe_text(last.settings))
    replayed_settings = settings_from_png(path)[0]
    assert replayed_settings == last.settings
    monkeypatch.setattr(loop, "clock", lambda: 0.0)
    replay = list(stylize(content, style, replayed_settings.replace(preview_every=1000), network=random_vgg19))
    assert replay[-1].step == last.step
    np.testing.assert_array_equal(replay[-1].image, last.image)
