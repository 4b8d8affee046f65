"""Resampled ensemble of relevance models, stacked by a Dense layer.

The negatives outnumber the positives 10 to 1; each of K members trains on all positives and one of K
disjoint parts of the negatives (about 1:1), all sharing the cached image features, and a Dense layer
with a sigmoid stacks their logits, trained on pairs no member saw. See :func:`run_ensemble`.
"""
from hm_lib.ensemble.compare import calibration, compare
from hm_lib.ensemble.filtering import filter_candidates, threshold_recall
from hm_lib.ensemble.parts import Resampled, resample
from hm_lib.ensemble.plots import plot_calibration, plot_comparison, plot_threshold_recall
from hm_lib.ensemble.scorer import RELEVANCE, MemberTables, RelevanceScorer
from hm_lib.ensemble.settings import EnsembleSettings
from hm_lib.ensemble.stacker import Stacker, fit_stacker
from hm_lib.ensemble.stage import EnsembleResult, load_scorer, relevance_dir, run_ensemble

__all__ = [
    "RELEVANCE", "EnsembleResult", "EnsembleSettings", "MemberTables", "RelevanceScorer", "Resampled", "Stacker",
    "calibration", "compare", "filter_candidates", "fit_stacker", "load_scorer", "plot_calibration",
    "plot_comparison", "plot_threshold_recall", "relevance_dir", "resample", "run_ensemble", "threshold_recall",
]
