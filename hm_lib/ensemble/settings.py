"""The knobs of the resampled ensemble, with defaults per data scale."""
from __future__ import annotations

from dataclasses import dataclass

from hm_lib.config import check_settings
from hm_lib.image_model.settings import VARIANTS
from hm_lib.settings_base import StageSettings


@dataclass(frozen=True)
class EnsembleSettings(StageSettings):
    """How the relevance ensemble is built.

    ``members`` disjoint parts of the training negatives, one member each (all positives + its part).
    ``variant``: the members' relevance model; the frozen variants read the cached image features, so
    the image network's cost is paid once for all members (end_to_end fine-tunes the backbone's tail in
    every member). ``stack_share`` of the training pairs (hashed by pair) is held out from every member
    and trains the stacker. ``min_relevance``: candidates whose stacked probability falls below it are
    dropped before ranking (None keeps all; the ranker decides). ``member_epochs``: each member's epochs
    (None: the image model's ``epochs_frozen``). ``single_model``: also train one model on all negatives
    with class weights, for the comparison. ``share_image_branch`` (calibrated variants):
    members 2..K take the first member's trained image branch (calibration layer, and tail) as fixed
    input features and train the rest, so the image network's training is paid once, not K times.
    """

    SECTION = "ensemble"
    # Full (2 CPU cores): one epoch a member and no single-model comparison (docs/benchmarks.md, "The whole
    # chain at full scale": members 2,453 s and the single model 688 s of stage 05's 3,519 s at two epochs).
    SCALE_DEFAULTS = {"tiny": {"members": 4, "stack_epochs": 10},
                      "full": {"member_epochs": 1, "single_model": False}}

    members: int = 10
    variant: str = "frozen_calibrated"
    stack_share: float = 0.1
    stack_epochs: int = 30
    stack_lr: float = 0.05
    member_epochs: int | None = None
    single_model: bool = True
    share_image_branch: bool = True
    min_relevance: float | None = None
    thresholds: tuple[float, ...] = (0.03, 0.05, 0.07, 0.09, 0.11, 0.13, 0.15)
    calibration_bins: int = 10

    def __post_init__(self) -> None:
        checks = {
            "members must be at least 1": self.members >= 1,
            f"variant must be one of {VARIANTS}": self.variant in VARIANTS,
            "stack_share must lie in (0, 1)": 0.0 < self.stack_share < 1.0,
            "stack_epochs must be at least 1": self.stack_epochs >= 1,
            "member_epochs must be at least 1 (or None)": self.member_epochs is None or self.member_epochs >= 1,
            "min_relevance must lie in [0, 1]": self.min_relevance is None or 0.0 <= self.min_relevance <= 1.0,
        }
        check_settings("EnsembleSettings", checks)
