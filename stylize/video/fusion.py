"""Temporal consistency for any per-frame stylizer: the previous output, warped along the flow, blended in where
the flow holds (Ruder et al. 2016, Chen et al. 2017, with Lai et al. 2018's occlusion test), reset at a cut; for a
network that can be cut in stages, its features are fused instead of its output's pixels."""

from __future__ import annotations

import cv2
import numpy as np

from . import flow
from .settings import DEFAULT_FUSION, Fusion
from .stylizers import FrameStylizer, TrunkStylizer

OUTPUT = "output"  # the past's key for the stylised pixels (features are keyed by their depth)


class Fuser:
    """The state carried from frame to frame: the last input (small, grey), the last output or features, the last
    histogram."""

    def __init__(self, fusion: Fusion = DEFAULT_FUSION):
        self.fusion = fusion
        self._flow = flow.DISFlow(fusion.flow_preset)
        self._histogram: np.ndarray | None = None
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next frame is stylised on its own (a new shot, or a new clip)."""
        self._grey: np.ndarray | None = None
        self._previous_grey: np.ndarray | None = None
        self._past: dict[int | str, np.ndarray] = {}  # what the last frame ended with, at each place fused
        self._motion: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # this frame's, at the flow's size

    def is_cut(self, frame: np.ndarray) -> bool:
        """Whether this uint8 frame starts a new shot: its colours differ from the previous frame's by more than
        fusion.cut_histogram. The first frame is no cut (it starts the clip)."""
        histogram = flow.histogram(frame)
        previous, self._histogram = self._histogram, histogram
        return previous is not None and flow.histogram_distance(previous, histogram) > self.fusion.cut_histogram

    def stylize(self, frame: np.ndarray, stylizer: FrameStylizer) -> np.ndarray:
        """This uint8 frame stylised and fused with the past, float32 in [0, 1]: inside the network where the
        stylizer can be cut in stages (a TrunkStylizer, unless fusion.trunk is off), else its output's pixels."""
        picture = frame.astype(np.float32) / 255.0
        if self.fusion.trunk and isinstance(stylizer, TrunkStylizer):
            self._next_frame(frame)
            inside = stylizer(picture, self._fused)
            return self._output(inside, self.fusion.consistency * self.fusion.trunk_output)
        return self(frame, stylizer(picture))

    def __call__(self, frame: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The output for this frame (uint8 input, float32 stylised in [0, 1], same size): stylized with the past
        blended in, float32."""
        self._next_frame(frame)
        return self._output(stylized, self.fusion.consistency)

    def _output(self, stylized: np.ndarray, weight: float) -> np.ndarray:
        fused = self._fused(OUTPUT, stylized, weight)
        return np.clip(fused, 0.0, 1.0, out=fused) if fused is not stylized else fused  # bicubic overshoots

    def _next_frame(self, frame: np.ndarray) -> None:
        if self.fusion.consistency > 0 and self.fusion.method == "flow":
            self._previous_grey, self._grey = self._grey, flow.grey(frame, self.fusion.flow_side)
        self._motion = None

    def _fused(self, place: int | str, current: np.ndarray, weight: float | None = None) -> np.ndarray:
        """current (HxWxC float32: the output, or features at depth `place`) with the past at the same place
        blended in at `weight` (the consistency unless given), and remembered for the next frame."""
        weight = self.fusion.consistency if weight is None else weight
        if weight == 0:
            return current
        previous = self._past.get(place)
        if previous is None or previous.shape != current.shape:
            fused = current
        elif self.fusion.method == "blend":
            fused = current + weight * (previous - current)
        else:
            backward, mask, still = self._motion_at(current.shape[:2])
            mask = mask * (weight + (1.0 - weight) * self.fusion.still_hold * still)
            # Bicubic for the pixels, which are warped again every frame (its blur piled up); features are
            # re-drawn into strokes by the stages after them.
            warped = flow.warp(previous, backward, cv2.INTER_CUBIC if place == OUTPUT else cv2.INTER_LINEAR)
            fused = current + mask[..., None] * (warped - current)
        self._past[place] = fused
        return fused

    def _motion_at(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The flow from this frame to the previous one at `shape`, the soft mask of where it holds, and the still
        pixels (flow.still) as a soft mask: computed once a frame at the flow's size, scaled to each place's.

        Still pixels get no motion and are trusted: their past is kept unresampled, where DIS's noise or its flow
        smeared around a moving object resampled or refused it, and fusion lost to blending without flow."""
        if self._motion is None:
            grey, previous = self._grey, self._previous_grey
            assert grey is not None and previous is not None
            backward = self._flow(grey, previous)
            forward = self._flow(previous, grey)
            trusted = flow.reliable(backward, forward)
            if self.fusion.photometric > 0:  # a flow that matches the wrong thing: the warped input itself differs
                difference = np.abs(grey.astype(np.float32) - flow.warp(previous, backward).astype(np.float32))
                trusted &= difference < 255 * self.fusion.photometric
            still = flow.still(grey, previous, backward, self.fusion.still_tolerance)
            self._motion = backward, flow.soften(trusted | still, self.fusion.mask_blur), still
        backward, mask, still = self._motion
        scaled = _scaled(backward, shape) * (shape[1] / backward.shape[1])
        # Exactly zero where still (bilinear scaling keeps a zero only where all four neighbours are zero).
        scaled[_scaled(still.astype(np.uint8), shape, cv2.INTER_NEAREST).astype(bool)] = 0.0
        return scaled, _scaled(mask, shape), _scaled(still.astype(np.float32), shape)


def _scaled(picture: np.ndarray, shape: tuple[int, int], interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """picture (flow-sized) at the frame's (height, width)."""
    height, width = shape
    return picture if picture.shape[:2] == shape else cv2.resize(picture, (width, height), interpolation=interpolation)
