"""Video: a clip stylised frame by frame without flicker (flow-warped fusion, reset at cuts), audio kept, bounded."""

from .clip import VideoProgress, join_segments, output_shape, stylize_clip
from .ffmpeg import VideoUnavailable
from .probe import ClipInfo, probe
from .settings import CONSISTENCY_RANGE, DEFAULT_CONSISTENCY, DEFAULT_FUSION, Fusion, VideoLimits
from .stylizers import FrameStylizer, StylizerFactory, builtin_frames, instant_frames, trained_frames

__all__ = [
    "CONSISTENCY_RANGE",
    "DEFAULT_CONSISTENCY",
    "DEFAULT_FUSION",
    "ClipInfo",
    "FrameStylizer",
    "Fusion",
    "StylizerFactory",
    "VideoLimits",
    "VideoProgress",
    "VideoUnavailable",
    "builtin_frames",
    "instant_frames",
    "join_segments",
    "output_shape",
    "probe",
    "stylize_clip",
    "trained_frames",
]
