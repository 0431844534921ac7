"""Posters: pictures up to 4096 px, painted as a whole at a base size and then in overlapping tiles at full size."""

from .run import stylize_poster

__all__ = ["stylize_poster"]
