"""Optical flow between frames (OpenCV's DIS), warping along it, where it can be trusted, and where a shot ends."""

from __future__ import annotations

import cv2
import numpy as np

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
# Ruder et al.'s 0.002 refused DIS's own noise on a still background (a third of a moving-object clip's pixels);
# a real motion boundary's gradient is of the order of a pixel per pixel, far above 0.1 (bench/video.py).
BOUNDARY_SLACK = 0.1
# A still pixel: no motion must explain its input better than the flow by STILL_MARGIN grey levels (in a flat
# region both explain it, and the flow, carried in from the edges around it, is kept), or the flow is below
# STILL_SPEED pixels, under any motion one would see.
STILL_MARGIN = 0.5
STILL_SPEED = 0.05
HISTOGRAM_BINS = 16  # per channel, for the cut test
CUT_SIDE = 64  # the cut test's thumbnails


def grey(frame: np.ndarray, side: int) -> np.ndarray:
    """uint8 greyscale of a uint8 RGB frame, its longer side scaled to at most `side` (INTER_AREA: no aliasing)."""
    height, width = frame.shape[:2]
    scale = min(1.0, side / max(height, width))
    small = frame if scale == 1.0 else cv2.resize(frame, _size(height, width, scale), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def _size(height: int, width: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))  # OpenCV's (width, height)


class DISFlow:
    """DIS optical flow (Kroeger et al. 2016), one OpenCV instance reused: a (H, W, 2) float32 field of where each
    pixel of the first picture is found in the second, in pixels."""

    def __init__(self, preset: str = "ultrafast"):
        if preset not in PRESETS:
            raise ValueError(f"flow preset is {preset!r} but must be one of {', '.join(PRESETS)}")
        self._dis = cv2.DISOpticalFlow.create(PRESETS[preset])

    def __call__(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return np.asarray(self._dis.calc(first, second, None))  # type: ignore[call-overload]  # stubs lack None


def sample_grid(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates x + flow(x), as cv2.remap's two maps."""
    height, width = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return xs + flow[..., 0], ys + flow[..., 1]


def squared_length(field: np.ndarray) -> np.ndarray:
    """|v|^2 of each vector of a (H, W, 2) field: by channel, as np.sum over the last axis took 18x as long (2 ms at
    512x288, four a frame: the reliability test's most)."""
    return field[..., 0] * field[..., 0] + field[..., 1] * field[..., 1]


def warp(picture: np.ndarray, flow: np.ndarray, interpolation: int = cv2.INTER_CUBIC) -> np.ndarray:
    """picture (any number of channels) sampled at x + flow(x): with the flow from frame t to t-1, frame t-1's
    picture moved onto frame t.

    Bicubic by default: the fused output is warped again every frame, and bilinear sampling's blur piled up (a
    zoom's style match fell 15% behind per-frame stylisation, bicubic 8%: bench/video.py)."""
    map_x, map_y = sample_grid(flow)
    return cv2.remap(picture, map_x, map_y, interpolation, borderMode=cv2.BORDER_REPLICATE)


def reliable(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where the flow can be trusted, as a bool mask over frame t: backward is t -> t-1, forward t-1 -> t.

    Lai et al.'s forward-backward test, |b + f(x + b)|^2 < 0.01 (|b|^2 + |f(x + b)|^2) + 0.5, marks occlusions;
    Ruder et al.'s |grad b|^2 > 0.01 |b|^2 + 0.002 marks motion boundaries, with BOUNDARY_SLACK for 0.002;
    pixels sent outside the frame fail.
    The 0.5 px^2 slack is in the flow's own pixels, also where the flow runs at a fraction of the frame's size:
    scaled down with it, the test refused half of a zoom's pixels for DIS's sub-pixel noise (bench/video.py).
    """
    height, width = backward.shape[:2]
    map_x, map_y = sample_grid(backward)
    forward_there = cv2.remap(forward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    round_trip = squared_length(backward + forward_there)
    backward_lengths = squared_length(backward)
    lengths = backward_lengths + squared_length(forward_there)
    consistent = round_trip < 0.01 * lengths + 0.5
    gradients = sum(
        cv2.Sobel(backward[..., c], cv2.CV_32F, dx, dy, ksize=1) ** 2 for c in range(2) for dx, dy in ((1, 0), (0, 1))
    )
    smooth = gradients <= 0.01 * backward_lengths + BOUNDARY_SLACK
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    return consistent & smooth & inside


def still(grey: np.ndarray, previous: np.ndarray, backward: np.ndarray, tolerance: float) -> np.ndarray:
    """Where frame t's input is explained by no motion at all, as a bool mask over frame t: its mean difference from
    frame t-1's over 5x5 pixels is under `tolerance` grey levels and smaller than along the flow (STILL_MARGIN), or
    the flow is nearly zero (STILL_SPEED).

    DIS spreads a moving object's flow over the still background around it and leaves sub-pixel noise elsewhere:
    warped along that, still pixels were resampled or refused, and fusion lost to blending without flow on a disc
    gliding over a still picture (bench/video.py)."""
    current, before = grey.astype(np.float32), previous.astype(np.float32)
    unmoved = cv2.blur(np.abs(current - before), (5, 5))
    moved = cv2.blur(np.abs(current - warp(before, backward)), (5, 5))
    slow = squared_length(backward) < STILL_SPEED**2
    return (unmoved < tolerance) & ((unmoved + STILL_MARGIN < moved) | slow)


def soften(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A bool mask as float32 in [0, 1] whose weights fall off smoothly towards its holes and edges (blurred by
    sigma, then multiplied by itself): no hard seams, and an unreliable pixel still gets no weight at all.
    Eroding first instead threw away a quarter of the reliable pixels of a pan (bench/video.py)."""
    weights = mask.astype(np.float32)
    return weights * cv2.GaussianBlur(weights, (0, 0), sigma) if sigma > 0 else weights


def histogram(frame: np.ndarray) -> np.ndarray:
    """Per-channel colour histogram of a small copy of a uint8 RGB frame, summing to 1 per channel."""
    height, width = frame.shape[:2]
    scale = min(1.0, CUT_SIDE / max(height, width))
    small = cv2.resize(frame, _size(height, width, scale), interpolation=cv2.INTER_AREA)
    counts = [np.bincount(small[..., c].ravel() // (256 // HISTOGRAM_BINS), minlength=HISTOGRAM_BINS) for c in range(3)]
    return np.stack(counts).astype(np.float32) / small[..., 0].size


def histogram_distance(first: np.ndarray, second: np.ndarray) -> float:
    """Half the L1 distance of two histograms, averaged over the channels: 0 the same colours, 1 none shared.
    A pan or a moving object keeps most of a shot's colours; a cut to another scene changes them."""
    return float(np.abs(first - second).sum(axis=1).mean() / 2)
