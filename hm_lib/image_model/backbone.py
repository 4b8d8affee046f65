"""The image backbone, its weights, and its split into a frozen head and a trainable tail.

ResNet50 without its top (or, for tests, a small ResNet-like stack with the same layer naming),
average-pooled. Layers before ``trainable_from`` are frozen; the network is cut at the last residual
block output before that layer, so the head is a pure function of the image (computed once per
article and cached) and the tail (the rest, its first layers possibly still frozen) runs in training.

Weights: ImageNet from a file already on disk (the Keras cache, or a path); downloaded once into the Keras cache
when asked for by name (``weights="imagenet"``) or when ``allow_download`` says so; otherwise the caller pretrains
the backbone on the catalogue's photos.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from hm_lib.digest import digest
from hm_lib.errors import RunError
from hm_lib.image_model.settings import ImageModelSettings

log = logging.getLogger(__name__)

IMAGENET_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
# Where keras.applications.ResNet50(weights="imagenet", include_top=False) fetches the same file, and its MD5
IMAGENET_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/resnet/{IMAGENET_FILE}"
IMAGENET_MD5 = "4d473c1dd8becc155b73f8504c6f6626"
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
BLOCK_SUFFIX = "_out"  # residual block outputs: the points where the network is a single tensor


@dataclass(frozen=True)
class WeightsChoice:
    """Where the backbone's starting weights come from: "imagenet", "file", "pretrain" or "random"."""

    kind: str
    path: Path | None
    note: str


def imagenet_cache_candidates() -> list[Path]:
    """Where Keras keeps a downloaded ResNet50 notop file ($KERAS_HOME, ~/.keras, /tmp/.keras)."""
    homes = [Path(os.environ["KERAS_HOME"])] if "KERAS_HOME" in os.environ else []
    homes += [Path.home() / ".keras", Path("/tmp/.keras")]
    return [home / "models" / IMAGENET_FILE for home in homes]


def cached_imagenet() -> Path | None:
    """The first of :func:`imagenet_cache_candidates` that is on this machine, or None."""
    return next((p for p in imagenet_cache_candidates() if p.is_file()), None)


def resolve_weights(settings: ImageModelSettings) -> WeightsChoice:
    """Decide the backbone's starting weights; the network is touched only to download ImageNet's, when they
    are asked for by name or ``allow_download`` is on and the file is not in the Keras cache yet."""
    wanted = settings.weights
    if wanted in ("pretrain", "random"):
        return WeightsChoice(wanted, None, f"weights={wanted!r}")
    if wanted not in ("auto", "imagenet"):
        path = Path(wanted)
        if not path.is_file():
            raise FileNotFoundError(f"backbone weights file {path} not found")
        return WeightsChoice("file", path, f"weights file {path}")
    if settings.backbone != "resnet50":
        if wanted == "imagenet":
            raise ValueError(f"ImageNet weights exist for resnet50 only, not backbone={settings.backbone!r}")
        return WeightsChoice("pretrain", None, f"no ImageNet weights for backbone={settings.backbone!r}")
    cached = cached_imagenet()
    if cached is not None:
        return WeightsChoice("imagenet", cached, f"ImageNet weights from {cached}")
    if wanted == "imagenet" or settings.allow_download:
        path = download_imagenet()
        return WeightsChoice("imagenet", path, f"ImageNet weights downloaded to {path}")
    where = ", ".join(str(p) for p in imagenet_cache_candidates())
    message = (f"ImageNet weights for ResNet50 are not on this machine (looked for {where}) and downloads are "
               "off (allow_download=False)")
    log.warning("image model: %s; pretraining the backbone on the catalogue's own photos instead", message)
    return WeightsChoice("pretrain", None, message)


def download_imagenet() -> Path:
    """Keras' ResNet50 notop weights, fetched into the Keras cache (where :func:`imagenet_cache_candidates` finds
    them next time) and checked against their MD5; a one-line error when there is no network."""
    log.info("image model: downloading ImageNet weights (94 MB) from %s", IMAGENET_URL)
    try:
        return Path(keras.utils.get_file(IMAGENET_FILE, IMAGENET_URL, cache_subdir="models", file_hash=IMAGENET_MD5))
    except Exception as err:  # get_file raises URLError, HTTPError or a plain Exception by cause
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise RunError(
            f"could not download the ImageNet weights from {IMAGENET_URL} ({first}): copy {IMAGENET_FILE} to "
            f"{imagenet_cache_candidates()[0]}, pass image__weights=PATH, or use image__weights=pretrain") from err


def small_resnet(input_shape: tuple[int, int, int],
                 widths: tuple[int, ...] = (16, 32, 64, 128)) -> keras.Model:
    """A four-block ResNet-like stack named like keras.applications.ResNet50 (conv{s}_block1_*), pooled."""
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(widths[0], 3, strides=2, padding="same", name="conv1_conv")(inputs)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    for stage, width in enumerate(widths, start=2):
        name, stride = f"conv{stage}_block1", 1 if stage == 2 else 2
        shortcut = layers.BatchNormalization(name=f"{name}_0_bn")(
            layers.Conv2D(width, 1, strides=stride, name=f"{name}_0_conv")(x))
        y = layers.Conv2D(width, 3, strides=stride, padding="same", name=f"{name}_1_conv")(x)
        y = layers.Activation("relu", name=f"{name}_1_relu")(layers.BatchNormalization(name=f"{name}_1_bn")(y))
        y = layers.BatchNormalization(name=f"{name}_2_bn")(layers.Conv2D(width, 3, padding="same",
                                                                         name=f"{name}_2_conv")(y))
        x = layers.Activation("relu", name=f"{name}_out")(layers.Add(name=f"{name}_add")([shortcut, y]))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, x, name="small_resnet")


def build_backbone(settings: ImageModelSettings, choice: WeightsChoice | None = None,
                   weights_path: Path | None = None) -> keras.Model:
    """The pooled backbone for ``settings.image_size``, with ``choice``'s or ``weights_path``'s weights."""
    w, h = settings.image_size
    if settings.backbone == "small":
        model = small_resnet((h, w, 3))
    else:
        model = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(h, w, 3), pooling="avg")
    path = weights_path or (choice.path if choice is not None else None)
    if path is not None:
        model.load_weights(path)
    return model


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 BGR minus the ImageNet means (ResNet50's "caffe" preprocessing)."""
    return images[..., ::-1].astype(np.float32) - CAFFE_MEAN_BGR


def layer_index(model: keras.Model, layer: int | str) -> int:
    """Index in ``model.layers`` of a layer given by index or name."""
    if isinstance(layer, str):
        names = [lyr.name for lyr in model.layers]
        if layer not in names:
            raise ValueError(f"no layer {layer!r} in {model.name}")
        return names.index(layer)
    if not 0 < layer <= len(model.layers):
        raise ValueError(f"trainable_from={layer} outside 1..{len(model.layers)} for {model.name}")
    return layer


@dataclass(frozen=True)
class BackboneSplit:
    """The frozen head (image -> cut features), the tail (cut features -> pooled) and where they meet."""

    backbone: keras.Model
    head: keras.Model
    tail: keras.Model
    cut_layer: str
    first_trainable: int

    @property
    def trainable_tail_layers(self) -> list[str]:
        return [lyr.name for lyr in self.tail.layers if lyr.trainable and lyr.weights]


def split_backbone(backbone: keras.Model, trainable_from: int | str) -> BackboneSplit:
    """Cut at the last residual block output before ``trainable_from``; freeze everything before that layer."""
    first = layer_index(backbone, trainable_from)
    cuts = [i for i, lyr in enumerate(backbone.layers) if lyr.name.endswith(BLOCK_SUFFIX) and i < first]
    if not cuts:
        raise ValueError(f"trainable_from={trainable_from!r} must come after the first residual block of "
                         f"{backbone.name}")
    cut = backbone.layers[cuts[-1]]
    for i, lyr in enumerate(backbone.layers):
        lyr.trainable = i >= first
    head = keras.Model(backbone.input, cut.output, name="backbone_head")
    tail = keras.Model(cut.output, backbone.output, name="backbone_tail")
    return BackboneSplit(backbone, head, tail, cut.name, first)


def weights_digest(model: keras.Model) -> str:
    """A hash of a model's weights (all of them, in order): part of the feature cache's key."""
    return digest(*(np.asarray(w.numpy()) for w in model.weights))
