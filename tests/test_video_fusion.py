"""Flow, warping, the reliable-flow mask and fusion on arrays made in the test (no ffmpeg); the built-in network's
fusion inside, on a small pan."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stylize.fast.bundled import builtin_weights, load_bundled
from stylize.video import DEFAULT_FUSION, Fusion, builtin_frames
from stylize.video import flow as video_flow
from stylize.video.fusion import Fuser
from stylize.video.stylizers import TrunkStylizer


def scene(height: int = 96, width: int = 160, seed: int = 0, block: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (height // block + 1, width // block + 1, 3))
    return np.kron(coarse, np.ones((block, block, 1)))[:height, :width].astype(np.uint8)


def test_warp_moves_the_previous_frame_onto_the_current_one():
    picture = scene().astype(np.float32)
    flow = np.zeros((*picture.shape[:2], 2), np.float32)
    flow[..., 0] = 3.0  # every pixel of this frame is found 3 px to the right in the previous one
    warped = video_flow.warp(picture, flow)
    assert np.array_equal(warped[:, :-3], picture[:, 3:])


def test_the_mask_refuses_occlusions_and_what_left_the_frame():
    height, width = 40, 60
    backward = np.zeros((height, width, 2), np.float32)
    forward = np.zeros_like(backward)
    backward[:, :, 0] = -2.0  # this frame's pixels came from 2 px to the left: a pan
    forward[:, :, 0] = 2.0
    forward[10:20, 10:20] = 0.0  # but here the way forward disagrees: an occlusion
    mask = video_flow.reliable(backward, forward)
    assert not mask[:, :2].any()  # they came from outside the previous frame
    assert not mask[12:18, 14:20].any()
    assert mask[30:, 5:].all()


def test_the_flow_of_a_pan_is_found():
    picture = scene()
    previous, current = video_flow.grey(picture[:, 4:], 256), video_flow.grey(picture[:, :-4], 256)
    backward = video_flow.DISFlow("fast")(current, previous)
    assert abs(np.median(backward[..., 0]) - (-4.0)) < 0.5


def test_fusion_follows_a_pan_and_blending_smears_it():
    """A flickering stylizer on a pan: flow-warped fusion lowers the error against the true motion more than
    blending without flow, and stays sharp where blending averages shifted copies."""
    wide = scene(width=220)
    frames = [wide[:, 2 * t : 2 * t + 160] for t in range(20)]
    rng = np.random.default_rng(1)
    noise = [rng.normal(0, 0.08, frames[0].shape).astype(np.float32) for _ in frames]

    def outputs(fusion: Fusion) -> list[np.ndarray]:
        fuser = Fuser(fusion)
        return [fuser(f, np.clip(f / 255.0 + n, 0, 1).astype(np.float32)) for f, n in zip(frames, noise)]

    def error(images):  # each output against the previous one moved 2 px, away from the borders
        return np.mean([np.mean((b[8:-8, 8:-10] - a[8:-8, 10:-8]) ** 2) for a, b in zip(images, images[1:])])

    def blur(images):  # the clean frame's difference from the output: averaging shifted copies blurs
        return np.mean([np.mean((o - f / 255.0) ** 2) for o, f in zip(images[5:], frames[5:])])

    per_frame = outputs(replace(DEFAULT_FUSION, consistency=0.0))
    fused = outputs(DEFAULT_FUSION)
    blended = outputs(replace(DEFAULT_FUSION, method="blend"))
    assert error(fused) < 0.3 * error(per_frame)
    assert error(fused) < error(blended)
    assert blur(fused) < blur(blended)


def test_a_cut_is_a_change_of_colours_not_of_place():
    fuser = Fuser()
    first = scene(seed=3)
    assert not fuser.is_cut(first)
    assert not fuser.is_cut(np.roll(first, 12, axis=1))  # a pan keeps the colours
    assert fuser.is_cut(first // 4 + 180)  # another scene


def test_fusion_settings_are_checked():
    with pytest.raises(ValueError, match="method is 'warp' but must be one of flow, blend"):
        Fusion(method="warp")
    with pytest.raises(ValueError, match="flow preset is 'slow'"):
        Fuser(Fusion(flow_preset="slow"))


def gliding(frames: int = 16, step: int = 2, side: int = 48) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A square of one scene gliding `step` px a frame over another, still one; and where the square is. The
    background has detail everywhere: in a flat region no motion and the flow explain the input alike."""
    background, thing = scene(144, 256, seed=4, block=2), scene(side, side, seed=5)
    clip, where = [], []
    for t in range(frames):
        frame, inside = background.copy(), np.zeros(background.shape[:2], bool)
        frame[48 : 48 + side, 8 + step * t : 8 + side + step * t] = thing
        inside[48 : 48 + side, 8 + step * t : 8 + side + step * t] = True
        clip.append(frame)
        where.append(inside)
    return clip, where


def test_still_pixels_are_blended_unresampled():
    """Beside a moving square the still background is fused exactly as blending without flow fuses it (at the still
    pixels' weight): its past is not resampled along DIS's noise, however the stylizer flickers."""
    clip, where = gliding()
    rng = np.random.default_rng(2)
    stylized = [np.clip(f / 255.0 + rng.normal(0, 0.08, f.shape), 0, 1).astype(np.float32) for f in clip]
    weight = DEFAULT_FUSION.consistency + (1 - DEFAULT_FUSION.consistency) * DEFAULT_FUSION.still_hold
    fuser, blender = Fuser(), Fuser(replace(DEFAULT_FUSION, method="blend", consistency=weight))
    far = np.ones(where[0].shape, bool)
    far[32:112, :96] = False  # away from the square's path
    for frame, picture in zip(clip, stylized):
        fused, blended = fuser(frame, picture), blender(frame, picture)
        assert np.abs(fused[far] - blended[far]).max() < 1e-6


def test_fusion_beats_blending_on_a_moving_object():
    """The square moves with the flow and the still background is blended unresampled: less flicker than blending
    without flow (without the still test, DIS's flow around the square lost to it)."""
    clip, where = gliding()
    rng = np.random.default_rng(3)
    noise = [rng.normal(0, 0.08, clip[0].shape).astype(np.float32) for _ in clip]

    def error(fusion: Fusion) -> float:  # output t+1 against output t moved as the input moved
        fuser = Fuser(fusion)
        outputs = [fuser(f, np.clip(f / 255.0 + n, 0, 1).astype(np.float32)) for f, n in zip(clip, noise)]
        errors = []
        for t in range(2, len(clip) - 1):
            moved = outputs[t].copy()
            moved[where[t + 1]] = np.roll(outputs[t], 2, axis=1)[where[t + 1]]  # the square, 2 px on
            seen = ~(where[t] & ~where[t + 1])  # not the background the square just uncovered
            errors.append(np.mean((outputs[t + 1] - moved)[seen] ** 2))
        return float(np.mean(errors))

    assert error(DEFAULT_FUSION) < error(replace(DEFAULT_FUSION, method="blend"))


def pan(frames: int = 16, step: int = 2) -> list[np.ndarray]:
    wide = scene(width=160 + step * frames)
    return [wide[:, step * t : step * t + 160] for t in range(frames)]


def pan_error(outputs: list[np.ndarray], step: int = 2) -> float:
    """Each output against the previous one moved `step` px, away from the borders."""
    return float(
        np.mean([np.mean((b[8:-8, 8 : -8 - step] - a[8:-8, 8 + step : -8]) ** 2) for a, b in zip(outputs, outputs[1:])])
    )


def test_a_network_cut_in_stages_is_fused_inside_it():
    """A TrunkStylizer gets its features fused between its stages, then its output's pixels at trunk_output's
    share of the consistency (0: nothing after it); with trunk off it is called whole and its pixels are fused."""
    frames = pan()
    rng = np.random.default_rng(4)
    noise = [rng.normal(0, 0.08, frames[0].shape).astype(np.float32) for _ in frames]
    fused_at: list = []

    def run(frame, fuse):  # a flickering first stage, then a second one (halves the contrast)
        features = np.clip(frame + noise[len(fused_at)], 0, 1).astype(np.float32)
        if fuse is not None:
            before = features
            features = fuse(1, features)
            fused_at.append(features is not before)
        else:
            fused_at.append(None)
        return 0.25 + 0.5 * features

    def outputs(fusion: Fusion) -> list[np.ndarray]:
        fused_at.clear()
        fuser = Fuser(fusion)
        return [fuser.stylize(f, TrunkStylizer(run)) for f in frames]

    per_frame = outputs(replace(DEFAULT_FUSION, consistency=0.0))
    assert fused_at == [False] * len(frames)  # called with fuse, which left the features alone
    inside = outputs(replace(DEFAULT_FUSION, trunk_output=0.0))
    assert fused_at[0] is False and all(fused_at[1:])  # the past blended in from the second frame on
    assert all(o.min() >= 0.25 - 1e-6 and o.max() <= 0.75 + 1e-6 for o in inside)  # nothing blended after it
    assert pan_error(inside) < 0.3 * pan_error(per_frame)
    both = outputs(DEFAULT_FUSION)  # then the output's pixels too, at a share of the consistency
    assert pan_error(both) < 0.8 * pan_error(inside)
    after = outputs(replace(DEFAULT_FUSION, trunk=False))
    assert fused_at == [None] * len(frames)
    assert pan_error(after) < 0.3 * pan_error(per_frame)


def test_the_builtin_network_in_stages_is_the_whole_network():
    networks = load_bundled()
    weights = builtin_weights(3)
    picture = scene(90, 130).astype(np.float32) / 255.0  # sides not multiples of 4: padded inside
    seen = []
    staged = networks.builtin(
        picture, weights, lambda depth, features: seen.append((depth, features.shape)) or features
    )
    assert np.abs(staged - networks.builtin(picture, weights)).max() < 1e-5
    assert seen == [(1, (23, 33, 32)), (2, (23, 33, 32))]  # after its 2nd and 4th residual blocks, 1/4 size
    assert isinstance(builtin_frames(3, networks=networks)(picture), TrunkStylizer)


def test_a_builtin_style_fused_inside_flickers_less_and_keeps_its_strokes():
    """Built-in style 3 on a pan: fused inside, less flicker than per frame, and its strokes' contrast (the outputs'
    local detail) nearer per frame's than fused as pixels alone, which averages them."""
    frames = pan(12)
    factory = builtin_frames(3, networks=load_bundled())

    def outputs(fusion: Fusion) -> list[np.ndarray]:
        fuser = Fuser(fusion)
        return [fuser.stylize(f, factory(f / 255.0)) for f in frames]

    def detail(images) -> float:  # the mean absolute difference between neighbouring pixels
        return float(np.mean([np.abs(np.diff(o, axis=1)).mean() for o in images[4:]]))

    per_frame = outputs(replace(DEFAULT_FUSION, consistency=0.0))
    inside, pixels = outputs(replace(DEFAULT_FUSION, trunk_output=0.0)), outputs(replace(DEFAULT_FUSION, trunk=False))
    assert pan_error(inside) < 0.7 * pan_error(per_frame)
    assert abs(detail(inside) - detail(per_frame)) < abs(detail(pixels) - detail(per_frame))
