"""Ranker features in families, each a function of a cut-off date (declared once in :data:`FAMILIES`).

Every function reads only the transactions strictly before the cut-off, so training weeks,
the validation week and the submission share one code path and nothing leaks from the future.
Tables carry an `event_timestamp` (the cut-off) for the feature store.
"""
from hm_lib.features.article import ARTICLE_CATEGORICALS, article_features
from hm_lib.features.customer import customer_features
from hm_lib.features.families import FAMILIES, FeatureFamily, entity_families, family, pair_families
from hm_lib.features.pair import pair_features

__all__ = ["ARTICLE_CATEGORICALS", "FAMILIES", "FeatureFamily", "article_features", "customer_features",
           "entity_families", "family", "pair_families", "pair_features"]
