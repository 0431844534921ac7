"""Real-time style transfer: the instant arbitrary-style network, trained transformation networks, webcam frames."""

from .instant import InstantModel, InstantUnavailable, instant_stylize, load_instant
from .live import stylize_frame
from .training import NoTrainingImages, TrainProgress, TrainSettings, train
from .transformer import apply_transformer, build_transformer, list_trained, load_transformer

__all__ = ["InstantModel", "InstantUnavailable", "instant_stylize", "load_instant", "stylize_frame",
           "NoTrainingImages", "TrainProgress", "TrainSettings", "train", "apply_transformer", "build_transformer",
           "list_trained", "load_transformer"]
