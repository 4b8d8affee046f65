"""The two-tower relevance model (Keras 3, backend-agnostic).

Customer tower: a customer embedding of size k plus embeddings of customer attributes and, when
``history_length`` > 0, a projection of the mean over the customer's last purchases (a lookup table set for
a date) of those articles' id and attribute embeddings and, for the image variants, their image codes
(fixed principal components of the pooled backbone features). Item tower:
an article-id embedding, article-attribute embeddings and, for the image variants, the image branch
(backbone tail -> average pool -> standardise -> Dense(150, relu) calibration), concatenated and
projected by Dense(k + 1) (vector and bias). Score: dot product plus customer, article and global
biases; a logit for sigmoid binary cross-entropy.

Cold start: an article without a purchase in the training pairs (``article_seen`` 0, e.g. a new arrival)
has no trained id vector, so its id part is zero and it is scored from its attributes and photo. So that
this path is trained too, ``id_dropout`` zeroes the id part of that share of a batch's articles while
training (as DropoutNet does for cold-start items).

The item tower runs once per *distinct* article of a batch: inputs carry the batch's distinct
articles (``article``, ``image``) and, per interaction, the row of its article (``slot``). The tail's
batch normalisation stays in inference mode, so a row's output does not depend on which other rows
share its batch, and deduplication gives exactly the per-interaction scores.
"""
from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

from hm_lib.image_model.settings import VARIANTS

CALIBRATED = ("frozen_calibrated", "end_to_end")
# Up to this many articles, purchase histories gather from a table of every article's embeddings (at
# default scale, 8,000 articles, faster than embedding a batch's 2,048 x 20 history rows); beyond it
# (105,542 at full size: 0.63 s a training step against 0.10 s without histories) row by row.
HISTORY_TABLE_ARTICLES = 32_768


@keras.saving.register_keras_serializable(package="hm_image_model")
class RelevanceModel(keras.Model):
    """Scores (customer, article) pairs; inputs: customer (B,), slot (B,), article (U,), image (U, ...)."""

    def __init__(self, variant: str, n_customers: int, n_articles: int, customer_cards: list[int],
                 article_cards: list[int], k: int = 32, id_dim: int = 32, calibration_units: int = 150,
                 image_dim: int = 0, l2: float = 1e-6, image_dropout: float = 0.0,
                 tail: keras.Model | None = None, history_length: int = 0, history_image_dim: int = 0,
                 customer_ids: bool = True, id_dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        if (variant == "end_to_end") != (tail is not None):
            raise ValueError("the end_to_end variant, and only it, takes the backbone's tail")
        self.variant, self.k, self.l2 = variant, k, l2
        self.n_customers, self.n_articles = n_customers, n_articles
        self.customer_cards, self.article_cards = list(customer_cards), list(article_cards)
        self.id_dim, self.calibration_units, self.image_dim = id_dim, calibration_units, image_dim
        self.image_dropout = image_dropout
        self.history_length, self.history_image_dim = history_length, history_image_dim
        self.customer_ids, self.id_dropout = customer_ids, id_dropout
        self.id_seed = keras.random.SeedGenerator(name="id_dropout_seed") if id_dropout else None
        reg = keras.regularizers.L2(l2) if l2 else None
        # Per-customer rows (the paper's): every optimizer step updates the whole table, which costs
        # with 1.37M customers; without them a customer is their attributes and purchase history.
        self.customer_embedding = (layers.Embedding(n_customers, k, embeddings_regularizer=reg,
                                                    name="customer_embedding") if customer_ids else None)
        self.customer_bias = (layers.Embedding(n_customers, 1, embeddings_initializer="zeros",
                                               name="customer_bias") if customer_ids else None)
        self.customer_attributes = [layers.Embedding(c, k, name=f"customer_attribute_{i}")
                                    for i, c in enumerate(self.customer_cards)]
        self.article_embedding = layers.Embedding(n_articles, id_dim, embeddings_regularizer=reg,
                                                  name="article_embedding")
        self.article_attributes = [layers.Embedding(c, id_dim, name=f"article_attribute_{i}")
                                   for i, c in enumerate(self.article_cards)]
        self.tail = tail
        self.dropout = layers.Dropout(image_dropout, name="image_dropout")
        self.calibration = (layers.Dense(calibration_units, activation="relu", name="calibration")
                            if variant in CALIBRATED else None)
        self.item_dense = layers.Dense(k + 1, name="item_vector")
        # The image's share of the item vector (and of the history's) starts at zero: training begins
        # from the no-image model and takes from the photos what improves the loss.
        self.image_dense = (layers.Dense(k + 1, use_bias=False, kernel_initializer="zeros", name="image_vector")
                            if variant != "no_image" else None)
        self.history_dense = layers.Dense(k + 1, name="history_vector") if history_length else None
        self.history_image_dense = (layers.Dense(k + 1, use_bias=False, kernel_initializer="zeros",
                                                 name="history_image_vector")
                                    if history_length and history_image_dim else None)
        self.global_bias = self.add_weight(shape=(), initializer="zeros", name="global_bias")
        # Lookup tables (not trained): attribute codes per customer and article, image feature statistics.
        self.customer_codes = self._table("customer_codes", (n_customers, len(self.customer_cards)), "int32")
        self.article_codes = self._table("article_codes", (n_articles, len(self.article_cards)), "int32")
        self.article_seen = self._table("article_seen", (n_articles,), "float32", "ones")
        self.image_mean = self._table("image_mean", (image_dim,), "float32")
        self.image_scale = self._table("image_scale", (image_dim,), "float32", "ones")
        self.customer_history = self._table("customer_history", (n_customers, history_length), "int32")
        self.history_image = self._table("history_image", (n_articles, history_image_dim), "float32")

    def _table(self, name: str, shape: tuple[int, ...], dtype: str,
               init: str = "zeros") -> keras.Variable | None:
        if not all(shape):
            return None
        return self.add_weight(shape=shape, dtype=dtype, initializer=init, trainable=False, name=name)

    def set_tables(self, customer_codes: np.ndarray, article_codes: np.ndarray,
                   image_mean: np.ndarray | None = None, image_std: np.ndarray | None = None) -> None:
        """Fill the lookup tables: attribute codes and the statistics that standardise image features."""
        if self.customer_codes is not None:
            self.customer_codes.assign(customer_codes.astype("int32"))
        if self.article_codes is not None:
            self.article_codes.assign(article_codes.astype("int32"))
        if self.image_mean is not None and image_mean is not None and image_std is not None:
            self.image_mean.assign(image_mean.astype("float32"))
            self.image_scale.assign((1.0 / np.maximum(image_std, 1e-6)).astype("float32"))

    def set_seen(self, seen: np.ndarray) -> None:
        """Mark the articles with training purchases (1) and those scored without an id vector (0)."""
        if self.article_seen is not None:
            self.article_seen.assign(np.asarray(seen, dtype="float32"))

    def id_vectors(self, article: Any, training: bool = False) -> Any:
        """(..., id_dim): the id embeddings of ``article`` (any shape), zero for articles not seen in training
        and, while training, for an ``id_dropout`` share of them."""
        keep = ops.take(self.article_seen, article, axis=0)
        if training and self.id_seed is not None:
            keep = keep * ops.cast(keras.random.uniform(ops.shape(keep), seed=self.id_seed) >= self.id_dropout,
                                   "float32")
        return self.article_embedding(article) * keep[..., None]

    def set_history(self, history: np.ndarray, history_image: np.ndarray | None = None) -> None:
        """Set the purchase histories the customer tower reads (e.g. those before a scoring date)."""
        if self.customer_history is None:
            raise ValueError("this model's customer tower reads no purchase history (history_length 0)")
        self.customer_history.assign(np.asarray(history, dtype="int32"))
        if self.history_image is not None and history_image is not None:
            self.history_image.assign(np.asarray(history_image, dtype="float32"))

    def image_embedding(self, image: Any, training: bool = False) -> Any:
        """The image branch: (U, ...) backbone input -> (U, calibration units) (standardised pooled if none)."""
        x = ops.cast(image, "float32")
        if self.tail is not None:
            x = self.tail(x, training=False)  # batch normalisation keeps its statistics
        x = self.dropout((x - self.image_mean) * self.image_scale, training=training)
        return self.calibration(x) if self.calibration is not None else x

    def item_vectors(self, article: Any, image: Any = None, training: bool = False) -> Any:
        """(U, k + 1): each article's vector and, last, its bias."""
        parts = [self.id_vectors(article, training)]
        if self.article_attributes:
            codes = ops.take(self.article_codes, article, axis=0)
            parts.append(sum(emb(codes[:, i]) for i, emb in enumerate(self.article_attributes)))
        vectors = self.item_dense(ops.concatenate(parts, axis=-1))
        if self.image_dense is not None:
            vectors = vectors + self.image_dense(self.image_embedding(image, training))
        return vectors

    def history_item_rows(self, articles: Any, by_table: bool) -> Any:
        """(..., id_dim x 2): the id and summed attribute embeddings of ``articles`` (any shape).

        ``by_table`` embeds every article of the catalogue once, then gathers: cheaper while the catalogue
        has fewer articles than a batch's histories hold rows (B x length); otherwise each history row is
        embedded itself. Both give the same numbers.
        """
        if by_table:
            table = [self.article_embedding.embeddings * self.article_seen[:, None]]
            if self.article_attributes:
                table.append(sum(emb(self.article_codes[:, i]) for i, emb in enumerate(self.article_attributes)))
            return ops.take(ops.concatenate(table, axis=-1), articles, axis=0)
        parts = [self.id_vectors(articles)]
        if self.article_attributes:
            codes = ops.take(self.article_codes, articles, axis=0)
            parts.append(sum(emb(codes[..., i]) for i, emb in enumerate(self.article_attributes)))
        return ops.concatenate(parts, axis=-1)

    def history_projection(self) -> Any:
        """(articles, k + 1): every article's history row through the history layers' kernels (no bias).

        The layers are linear, so the projected mean of a history (:meth:`history_vectors`) is the mean of
        its items' projections plus the bias: with this table, a customer's history costs a gather of
        ``length`` rows of k + 1 instead of the embedding and projection of every item (scoring every
        customer at full size spent most of its time there).
        """
        every = ops.arange(self.n_articles, dtype="int32")
        projection = ops.matmul(self.history_item_rows(every, by_table=False), self.history_dense.kernel)
        if self.history_image_dense is not None:
            projection = projection + ops.matmul(self.history_image, self.history_image_dense.kernel)
        return projection

    def history_vectors(self, customer: Any) -> Any:
        """(B, k + 1): the projected mean of the customers' history items (zero without a history)."""
        history = ops.take(self.customer_history, customer, axis=0)
        mask = ops.cast(history >= 0, "float32")[..., None]
        articles = ops.maximum(history, 0)
        count = ops.sum(mask, axis=1)

        def mean(x: Any) -> Any:
            return ops.sum(x * mask, axis=1) / ops.maximum(count, 1.0)

        by_table = self.n_articles <= HISTORY_TABLE_ARTICLES
        vectors = self.history_dense(mean(self.history_item_rows(articles, by_table)))
        if self.history_image_dense is not None:
            vectors = vectors + self.history_image_dense(mean(ops.take(self.history_image, articles, axis=0)))
        return vectors * ops.minimum(count, 1.0)

    def customer_vectors(self, customer: Any, history: bool = True) -> Any:
        """(B, k + 1): each customer's vector and, last, their bias (``history`` False: without the history's part)."""
        rows = ops.shape(customer)[0]
        ids = self.customer_embedding is not None
        vec = self.customer_embedding(customer) if ids else ops.zeros((rows, self.k), dtype="float32")
        if self.customer_attributes:
            codes = ops.take(self.customer_codes, customer, axis=0)
            vec = vec + sum(emb(codes[:, i]) for i, emb in enumerate(self.customer_attributes))
        bias = self.customer_bias(customer) if ids else ops.zeros((rows, 1), dtype="float32")
        out = ops.concatenate([vec, bias], axis=-1)
        return out + self.history_vectors(customer) if history and self.history_dense is not None else out

    def call(self, inputs: dict[str, Any], training: bool = False) -> Any:
        items = self.item_vectors(inputs["article"], inputs.get("image"), training)
        items = ops.take(items, inputs["slot"], axis=0)
        return pair_logits(self.customer_vectors(inputs["customer"]), items, self.global_bias)[:, None]

    def dummy_inputs(self) -> dict[str, Any]:
        """One-row inputs that build every layer (loading a saved model calls the model on them)."""
        inputs = {name: np.zeros(1, dtype="int32") for name in ("customer", "slot", "article")}
        if self.variant != "no_image":
            shape = self.tail.input.shape[1:] if self.tail is not None else (self.image_dim,)
            inputs["image"] = np.zeros((1, *shape), dtype="float32")
        return inputs

    def get_build_config(self) -> dict[str, Any]:
        return {"dummy_inputs": True}

    def build_from_config(self, config: dict[str, Any]) -> None:
        self(self.dummy_inputs())

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(variant=self.variant, n_customers=self.n_customers, n_articles=self.n_articles,
                      customer_cards=self.customer_cards, article_cards=self.article_cards, k=self.k,
                      id_dim=self.id_dim, calibration_units=self.calibration_units, image_dim=self.image_dim,
                      l2=self.l2, image_dropout=self.image_dropout, history_length=self.history_length,
                      history_image_dim=self.history_image_dim, customer_ids=self.customer_ids,
                      id_dropout=self.id_dropout,
                      tail=None if self.tail is None else keras.saving.serialize_keras_object(self.tail))
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RelevanceModel:
        config = dict(config)
        if config.get("tail") is not None:
            config["tail"] = keras.saving.deserialize_keras_object(config["tail"])
        return cls(**config)


def pair_logits(customers: Any, items: Any, global_bias: Any) -> Any:
    """Logits of aligned (customer, item) rows of :meth:`customer_vectors` and :meth:`item_vectors`."""
    return (ops.sum(customers[:, :-1] * items[:, :-1], axis=-1) + customers[:, -1] + items[:, -1]
            + global_bias)


def copy_shared_weights(source: keras.Model, target: keras.Model) -> int:
    """Copy every weight whose path (below the model's name) and shape match; returns how many."""
    def key(path: str) -> str:
        return path.split("/", 1)[-1]

    found = {key(w.path): w for w in source.weights}
    copied = 0
    for w in target.weights:
        src = found.get(key(w.path))
        if src is not None and tuple(src.shape) == tuple(w.shape):
            w.assign(keras.ops.convert_to_numpy(src))  # a copy: JAX donates a training model's buffers
            copied += 1
    return copied
