"""Resampled ensemble of relevance models, stacked by a Dense layer.

The negatives outnumber the positives 10 to 1; each of K members trains on all positives and one of K
disjoint parts of the negatives (about 1:1), all sharing the cached image features, and a Dense layer
with a sigmoid stacks their logits, trained on pairs no member saw. See :func:`run_ensemble`.

The names below are imported on first use (hm_lib.lazy): the scorer and the filter need no Keras.
"""
from hm_lib.lazy import lazy_exports

_EXPORTS = {
    "calibration": "compare",
    **dict.fromkeys(("filter_candidates", "threshold_recall"), "filtering"),
    **dict.fromkeys(("Resampled", "resample"), "parts"),
    **dict.fromkeys(("plot_calibration", "plot_comparison", "plot_threshold_recall"), "plots"),
    **dict.fromkeys(("RELEVANCE", "MemberTables", "RelevanceScorer", "load_scorer"), "scorer"),
    "EnsembleSettings": "settings",
    **dict.fromkeys(("Stacker", "fit_stacker"), "stacker"),
    **dict.fromkeys(("EnsembleResult", "run_ensemble"), "stage"),
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
