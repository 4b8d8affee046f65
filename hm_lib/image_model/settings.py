"""The knobs of the image relevance model, with defaults per data scale.

Defaults follow Elsayed, Brinkmeyer and Schmidt-Thieme (2022) where a 2-core CPU allows: ResNet50
without its top, trainable from layer index 126 (inside conv4), Dense(150, relu) calibration, two
phases (image network frozen, then fine-tuned). The input resolution, the epochs and the size of
the backbone's pretraining are the choices that keep the default-scale stage within 10 minutes on
that CPU (measured in docs/benchmarks.md, "Image relevance model"). Beyond the paper, the customer
tower reads the customer's last ``history_length`` purchases (0 gives the paper's tower): with about
4 purchases per customer in a 4-week window, a customer embedding alone learns little.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hm_lib.config import check_settings
from hm_lib.settings_base import StageSettings

# The paper's ablation: ids and attributes only; frozen pooled backbone features; frozen features
# through the calibration layer; calibration and the backbone's tail trained end to end.
VARIANTS = ("no_image", "frozen_pooled", "frozen_calibrated", "end_to_end")
IMAGE_VARIANTS = VARIANTS[1:]
BACKBONES = ("resnet50", "small")
DECODERS = ("pil", "tf")
ARTICLE_ATTRIBUTES = ("product_type_no", "graphical_appearance_no", "colour_group_code",
                      "perceived_colour_master_id", "department_no", "index_code", "garment_group_no",
                      "section_no")
CUSTOMER_ATTRIBUTES = ("age", "club_member_status", "fashion_news_frequency", "FN", "Active")
PRETRAIN_TARGETS = ("product_type_no", "colour_group_code", "graphical_appearance_no")


@dataclass(frozen=True)
class ImageModelSettings(StageSettings):
    """Backbone, input, towers, training, pretraining and evaluation of the image relevance model.

    ``weights``: "auto" (ImageNet when its file is already in the Keras cache or ``allow_download``, else
    pretraining on the catalogue's own images), "imagenet" (the cached file, else downloaded once into the
    Keras cache), "pretrain", "random", or the path of a weights file for the backbone.
    ``trainable_from``: the backbone's first trainable layer, by index or name; earlier layers are
    frozen, and the output of the last residual block before it is computed once per article and
    cached. ``image_size`` is (width, height).
    """

    SECTION = "image"
    # Tiny: a small ResNet-like stack at 32x48 trains in seconds (tests), eagerly: a variant trains a few batches,
    # and tracing its graph took longer than the steps (04 and 05 about 40% faster eager, the same figures within
    # float rounding; docs/benchmarks.md, "The test suite"). Small and default: ResNet50 at
    # 64x96 (the photos are 128x192), the choice measured in docs/benchmarks.md. Full (2 CPU cores, 1.37M
    # customers, 105k articles; docs/benchmarks.md, "The whole chain at full scale"): the default's network
    # at 48x72 (0.56 of the pixels: the feature cache and pretraining, 17 minutes of the chain at 64x96, cost
    # about that much less; at default scale, seed 42, 48x72 gave frozen_calibrated AUC 0.794 against 0.785
    # and the ranker MAP@12 0.0562 against 0.0592, docs/benchmarks.md); pretraining on 2,000 photos for one
    # epoch; the photos of the half-year before the cut-off and of articles not sold before it (about 43k of
    # 105k); no per-customer rows (1.37M rows that Adam updates whole every step; at default scale dropping them
    # tied the ablation and halved training); the pairs of 30k sampled customers (fine-tuning end_to_end on a
    # CPU takes over an hour an epoch, so the CPU ablation leaves it to the GPU script); the ablation no_image
    # against the saved variant (frozen_pooled, 431 s at full, is the GPU script's and the smaller scales');
    # evaluation and probe on samples. At every scale the saved variant is frozen_calibrated, the ensemble's:
    # no later stage reads this stage's model (05 trains its own members on the cached features), so a
    # submission trains only it, and end_to_end (its fine-tuning about 2.5 minutes at default scale) is trained
    # with the ablation, when validating.
    SCALE_DEFAULTS = {
        "tiny": {"backbone": "small", "image_size": (32, 48), "trainable_from": "conv4_block1_1_conv",
                 "k": 16, "id_dim": 16, "calibration_units": 32, "epochs_frozen": 2, "batch_size": 256,
                 "group_articles": 64, "pretrain_images": 300, "pretrain_epochs": 1, "pretrain_batch": 32,
                 "eval_negatives": 20, "eval_customers": 500, "decode_workers": 2, "run_eagerly": True},
        "small": {"batch_size": 1024, "pretrain_images": 1_500},
        "default": {},
        "full": {"image_size": (48, 72), "customer_ids": False, "train_customers": 30_000,
                 "variants": ("no_image", "frozen_calibrated"), "pretrain_images": 2_000,
                 "pretrain_epochs": 1, "photo_days": 182, "eval_customers": 5_000, "probe_articles": 10_000},
    }

    backbone: str = "resnet50"
    image_size: tuple[int, int] = (64, 96)
    trainable_from: int | str = 126
    weights: str = "auto"
    allow_download: bool = False
    decoder: str = "pil"
    decode_workers: int = 4
    photo_days: int | None = None     # photos of articles sold in these days before the cut-off or never (None: all)
    # Towers.
    k: int = 32
    id_dim: int = 32
    calibration_units: int = 150
    article_attributes: tuple[str, ...] = ARTICLE_ATTRIBUTES
    customer_attributes: tuple[str, ...] = ("age",)
    customer_ids: bool = True         # a learnt row per customer (the paper's); off: attributes and history only
    history_length: int = 20          # last distinct purchases the customer tower reads (0: the paper's tower)
    history_image_dim: int = 64       # principal components of the pooled features per history item
    l2: float = 1e-6
    image_dropout: float = 0.5        # on the standardised pooled image features, while training
    # Share of a batch's articles trained without their id vector (the cold-start path). 0: at 0.1 the ranker's
    # MAP@12 fell by 0.0003 +/- 0.0001 on 3 worlds (docs/benchmarks.md, "Cold start in the relevance model").
    id_dropout: float = 0.0
    # Training: phase 1 (image network frozen) and phase 2 (backbone tail fine-tuned).
    variant: str = "frozen_calibrated"  # the model the stage saves, scores and embeds with (the ensemble's)
    variants: tuple[str, ...] = VARIANTS  # the ablation the stage trains and evaluates when validating
    ablation_always: bool = False     # the ablation for a submission too (else only `variant` is trained)
    train_customers: int | None = None  # train on the pairs of at most this many customers (seeded; None: all)
    epochs_frozen: int = 2
    epochs_finetune: int = 1
    batch_size: int = 2048
    lr: float = 2e-3
    lr_finetune: float = 5e-5         # the paper's end-to-end rate
    group_articles: int = 128         # phase 2: at most this many distinct articles per batch
    run_eagerly: bool = False         # training steps without a traced graph (tiny: tracing costs more than it saves)
    valid_pairs: int = 200_000        # cap on the validation pairs scored after each epoch
    # Backbone pretraining on catalogue attributes (when no ImageNet weights).
    pretrain_targets: tuple[str, ...] = PRETRAIN_TARGETS
    pretrain_images: int = 4_000
    pretrain_epochs: int = 2
    pretrain_batch: int = 64
    pretrain_lr: float = 1e-3
    # Evaluation (the paper's protocol) and outputs.
    eval_negatives: int = 100
    eval_customers: int = 20_000
    probe_articles: int | None = None  # the style probe's sample of articles (None: the whole catalogue)
    score_shard: int = 1_000_000
    cache_dir: Path | None = None     # None: {work_dir}/cache/image_model
    seed: int = 42

    def __post_init__(self) -> None:
        checks = {
            f"backbone must be one of {BACKBONES}": self.backbone in BACKBONES,
            f"variant must be one of {VARIANTS}": self.variant in VARIANTS,
            f"variants must be a subset of {VARIANTS}": set(self.variants) <= set(VARIANTS),
            f"decoder must be one of {DECODERS}": self.decoder in DECODERS,
            "image_size must be (width, height), each at least 32": len(self.image_size) == 2
            and min(self.image_size) >= 32,
            "id_dropout must lie in [0, 1)": 0.0 <= self.id_dropout < 1.0,
            "history_length and history_image_dim must be at least 0": min(self.history_length,
                                                                            self.history_image_dim) >= 0,
            "epochs and batch sizes must be positive": min(self.epochs_frozen, self.batch_size,
                                                           self.pretrain_batch, self.group_articles) > 0,
            "train_customers, probe_articles and photo_days must be positive (or None)": all(
                n is None or n > 0 for n in (self.train_customers, self.probe_articles, self.photo_days)),
            f"customer_attributes must be among {CUSTOMER_ATTRIBUTES}": set(self.customer_attributes)
            <= set(CUSTOMER_ATTRIBUTES),
        }
        check_settings("ImageModelSettings", checks)
