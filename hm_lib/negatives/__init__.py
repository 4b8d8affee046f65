"""Negative sampling: the labelled (customer, article, day) pairs that train the relevance model.

Positives are the distinct (customer, article, day) bought in the ``window_days`` before a cut-off;
each asks for ``ratio`` negatives drawn with two strategies (:mod:`hm_lib.negatives.sampling`).
:func:`build_pairs` stores them per cut-off; :func:`split_pairs` splits them for validation.
"""
from hm_lib.negatives.sampling import (
    PAIR_SCHEMA, STRATEGIES, NegativeReport, article_categories, sample_pairs, window_positives,
)
from hm_lib.negatives.settings import NegativeSettings
from hm_lib.negatives.split import PairSplit, held_out, split_pairs
from hm_lib.negatives.store import NegativePairs, build_pairs

__all__ = [
    "PAIR_SCHEMA", "STRATEGIES", "NegativePairs", "NegativeReport", "NegativeSettings", "PairSplit",
    "article_categories", "build_pairs", "held_out", "sample_pairs", "split_pairs",
    "window_positives",
]
