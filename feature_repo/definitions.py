"""The Feast objects of the ranker over the default work dir (../data), for the `feast` CLI.

`hm features apply` writes the offline tables and registers these objects for any work dir;
after it, `feast -c feature_repo plan|apply|materialize ...` works on ../data as well. Feast
resolves the relative source folders against this folder and infers each view's features from
the tables' columns. One entity, source and view per entity feature family (hm_lib.features.FAMILIES),
named ``customer``, ``customer_source``, ``customer_features``, ..., and the feature service ``ranker``.
"""
from hm_lib.feature_store import definitions

globals().update(definitions("../data/feature_store/offline").objects())
