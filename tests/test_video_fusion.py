"""Flow, warping, the reliable-flow mask and fusion on arrays made in the test (no ffmpeg, no network)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from stylize.video import DEFAULT_FUSION, Fusion
from stylize.video import flow as video_flow
from stylize.video.fusion import Fuser


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
