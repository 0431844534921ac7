"""The video engine's bounds and defaults: what a clip may be, and how frames are fused, in two frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.settings import check_range

CONSISTENCY_RANGE = (0.0, 1.0)  # 0: every frame stylised on its own; 1: the warped past kept wherever the flow holds
VIDEO_SIZE_RANGE = (64, 4096)  # the output's longer side


@dataclass(frozen=True)
class VideoLimits:
    """A clip's bounds, checked from its header before any frame is decoded. Defaults suit a laptop's command
    line; the app reads a server's from STYLIZE_VIDEO_* variables."""

    max_seconds: float = 600.0  # clip length: 10 minutes
    max_side: int = 4096  # the input's longer side (frames are scaled to the output size inside ffmpeg anyway)
    max_fps: float = 120.0
    max_bytes: int = 2 * 1024**3  # the file's size: 2 GB

    def __post_init__(self) -> None:
        for name in ("max_seconds", "max_side", "max_fps", "max_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} is {getattr(self, name)} but must be positive")


@dataclass(frozen=True)
class Fusion:
    """How the previous stylised frame is carried into the next (Ruder et al. 2016; the test of Lai et al. 2018)."""

    consistency: float = 0.7  # weight of the warped previous output where the flow is reliable (bench/video.py)
    method: str = "flow"  # "flow": warped along DIS optical flow; "blend": un-warped (the bench's comparison)
    trunk: bool = True  # fuse a built-in style's network inside (its features), not only its output's pixels
    # and then its output's pixels at this share of the consistency (0.3 at 0.7): inside alone left a soft style's
    # flicker (built-in 0: 28-41% less), the pixels alone averaged a bold one's strokes into a blur (bench/video.py)
    trunk_output: float = 0.43
    flow_preset: str = "fast"  # OpenCV's DIS preset: "fast" cut E_warp 2-3x more than "ultrafast" for ~5 ms
    # The flow's longer side: 512 px, a 512 px clip's own. At half of it a moving thing's features drifted as they
    # were warped frame after frame (built-in 0's long-term E_warp on a moving disc 15% above per frame's, 18% under
    # at full size); since the reliability test's speed-up it adds 40% on one AVX2 core, 23% natively.
    flow_side: int = 512
    mask_blur: float = 1.5  # Gaussian sigma, in flow pixels, that softens the reliable-flow mask's edges
    still_tolerance: float = 3.0  # grey levels: input changed less (5x5 mean), and less than along the flow: still
    still_hold: float = 0.5  # a still pixel's weight, this far from consistency to 1 (at 1 it froze blurred trails)
    photometric: float = 0.0  # >0: also distrust pixels whose warped input differs by more (0..1); 0.1 cost more
    cut_histogram: float = 0.4  # a new shot when small frames' colour histograms differ by more than this (0..1)

    def __post_init__(self) -> None:
        check_range("consistency", self.consistency, CONSISTENCY_RANGE)
        if self.method not in METHODS:
            raise ValueError(f"method is {self.method!r} but must be one of {', '.join(METHODS)}")
        check_range("flow_side", self.flow_side, (16, 4096), integer=True)
        check_range("still_tolerance", self.still_tolerance, (0.0, 255.0))
        check_range("still_hold", self.still_hold, (0.0, 1.0))
        check_range("trunk_output", self.trunk_output, (0.0, 1.0))


METHODS = ("flow", "blend")
DEFAULT_FUSION = Fusion()
DEFAULT_CONSISTENCY = DEFAULT_FUSION.consistency
