"""Stage three: a ranker orders each customer's candidates (a blend of LightGBM lambdarank seeds by default,
one booster at full size).

- :mod:`~hm_lib.ranking.frames`: labels, feature assembly, the rows a ranker learns from;
- :mod:`~hm_lib.ranking.base`: the :class:`Ranker` contract; :mod:`~hm_lib.ranking.lightgbm`: LightGBM's;
  :mod:`~hm_lib.ranking.blend`: the mean of LightGBM rankers of several seeds;
- :mod:`~hm_lib.ranking.registry`: the rankers by name, saving and loading a fitted one;
- :mod:`~hm_lib.ranking.stage`: the stage for one cut-off (:func:`run`), as notebooks/06_ranking calls it.

The names below are imported on first use (hm_lib.lazy); none of them loads TensorFlow.
"""
from hm_lib.lazy import lazy_exports

_EXPORTS = {
    "Ranker": "base",
    **dict.fromkeys(("LABEL", "FeatureTables", "assemble", "feature_columns", "label", "top_k", "with_positives"),
                    "frames"),
    "LightGBMRanker": "lightgbm",
    "LightGBMBlend": "blend",
    **dict.fromkeys(("RANKERS", "load_ranker", "make_ranker", "register", "save_ranker"), "registry"),
    "RankerSettings": "settings",
    **dict.fromkeys(("RELEVANCE_FEATURES", "RELEVANCE_RANK", "RELEVANCE_SHARE", "WITHOUT_RELEVANCE", "RankingRun",
                     "family_columns", "labelled_week", "predict", "ranked_customers", "read_predictions",
                     "relevance_cutoff", "relevance_filter_report", "relevance_scorer", "run", "training_frames",
                     "validation_figures", "week_buyers", "with_relevance", "write_feature_tables"), "stage"),
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
