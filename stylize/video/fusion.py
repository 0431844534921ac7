"""Temporal consistency for any per-frame stylizer: the previous output, warped along the flow, blended in where
the flow holds (Ruder et al. 2016, Chen et al. 2017, with Lai et al. 2018's occlusion test), reset at a cut."""

from __future__ import annotations

import cv2
import numpy as np

from . import flow
from .settings import DEFAULT_FUSION, Fusion


class Fuser:
    """The state carried from frame to frame: the last input (small, grey), the last output, the last histogram."""

    def __init__(self, fusion: Fusion = DEFAULT_FUSION):
        self.fusion = fusion
        self._flow = flow.DISFlow(fusion.flow_preset)
        self._histogram: np.ndarray | None = None
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next frame is stylised on its own (a new shot, or a new clip)."""
        self._grey: np.ndarray | None = None
        self._output: np.ndarray | None = None
        self.last_mask: np.ndarray | None = None  # the weight the warped past had in the last frame (for the bench)

    def is_cut(self, frame: np.ndarray) -> bool:
        """Whether this uint8 frame starts a new shot: its colours differ from the previous frame's by more than
        fusion.cut_histogram. The first frame is no cut (it starts the clip)."""
        histogram = flow.histogram(frame)
        previous, self._histogram = self._histogram, histogram
        return previous is not None and flow.histogram_distance(previous, histogram) > self.fusion.cut_histogram

    def __call__(self, frame: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The output for this frame (uint8 input, float32 stylised in [0, 1], same size): stylized with the past
        blended in, float32."""
        weight = self.fusion.consistency
        if weight == 0:
            return stylized
        grey = flow.grey(frame, self.fusion.flow_side) if self.fusion.method == "flow" else None
        previous, previous_grey = self._output, self._grey
        if previous is None or previous.shape != stylized.shape:
            fused = stylized
        elif self.fusion.method == "blend":
            fused = stylized + weight * (previous - stylized)
        else:
            assert grey is not None and previous_grey is not None
            backward, mask, still = self._backward_flow(grey, previous_grey, stylized.shape[:2])
            mask *= weight + (1.0 - weight) * self.fusion.still_hold * still
            self.last_mask = mask
            fused = stylized + mask[..., None] * (flow.warp(previous, backward) - stylized)
            np.clip(fused, 0.0, 1.0, out=fused)  # bicubic overshoots a little; kept, it would build up
        self._output, self._grey = fused, grey
        return fused

    def _backward_flow(
        self, grey: np.ndarray, previous: np.ndarray, shape: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The flow from this frame to the previous one at the frame's size, the soft mask of where it holds, and
        the still pixels (flow.still) as a soft mask at the frame's size.

        Still pixels get no motion and are trusted: their past is kept unresampled, where DIS's noise or its flow
        smeared around a moving object resampled or refused it, and fusion lost to blending without flow."""
        backward = self._flow(grey, previous)
        forward = self._flow(previous, grey)
        trusted = flow.reliable(backward, forward)
        if self.fusion.photometric > 0:  # a flow that matches the wrong thing: the warped input itself differs
            difference = np.abs(grey.astype(np.float32) - flow.warp(previous, backward).astype(np.float32))
            trusted &= difference < 255 * self.fusion.photometric
        still = flow.still(grey, previous, backward, self.fusion.still_tolerance)
        trusted |= still
        mask = _scaled(flow.soften(trusted, self.fusion.mask_blur), shape)
        backward = _scaled(backward, shape) * (shape[1] / grey.shape[1])
        # Exactly zero where still (bilinear scaling keeps a zero only where all four neighbours are zero).
        backward[_scaled(still.astype(np.uint8), shape, cv2.INTER_NEAREST).astype(bool)] = 0.0
        return backward, mask, _scaled(still.astype(np.float32), shape)


def _scaled(picture: np.ndarray, shape: tuple[int, int], interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """picture (flow-sized) at the frame's (height, width)."""
    height, width = shape
    return picture if picture.shape[:2] == shape else cv2.resize(picture, (width, height), interpolation=interpolation)
