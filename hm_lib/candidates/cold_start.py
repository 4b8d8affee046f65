"""Cold start: the best-sellers of the customer's age band, for customers without any purchase."""
from __future__ import annotations

import polars as pl

from hm_lib.candidates.base import SOURCE_SCHEMA, CandidateSource, ranked
from hm_lib.candidates.past import Past
from hm_lib.schema import ARTICLE, CUSTOMER, RANK, SCORE

SMOOTHING_ROWS = 100.0  # pseudo-sales of the overall best-sellers added to every age band
_BAND, _SHARE, _SALES, _ROWS = "_band", "_share", "_sales", "_rows"


class ColdStart(CandidateSource):
    """For customers with no purchase before the cut-off: recent best-sellers among their age band.

    Bands are ``age_band_years`` wide; sales of the last ``cold_start_days`` count. A band's score
    of an article is (band sales + SMOOTHING_ROWS x overall share) / (band rows + SMOOTHING_ROWS),
    so thin bands lean on the overall best-sellers; customers of unknown age (or unknown to the
    customers table, or of a band without recent sales) get the overall best-sellers.
    """

    name = "cold_start"

    def fit(self, past: Past) -> ColdStart:
        s = self.settings
        band = (pl.col("age") // s.age_band_years).cast(pl.Int32).fill_null(-1).alias(_BAND)
        self._bands = past.customers.select(CUSTOMER, band)
        rows = past.window(s.cold_start_days, past.week_end).join(self._bands, on=CUSTOMER, how="left")
        overall = rows.group_by(ARTICLE).agg((pl.len() / rows.height).alias(_SHARE))
        by_band = rows.filter(pl.col(_BAND) >= 0).group_by(_BAND, ARTICLE).agg(pl.len().alias(_SALES))
        smoothed = (
            by_band.group_by(_BAND).agg(pl.col(_SALES).sum().alias(_ROWS))
            .join(overall, how="cross")
            .join(by_band, on=[_BAND, ARTICLE], how="left")
            .select(_BAND, ARTICLE, ((pl.col(_SALES).fill_null(0) + SMOOTHING_ROWS * pl.col(_SHARE))
                                     / (pl.col(_ROWS) + SMOOTHING_ROWS)).alias(SCORE))
        )
        unknown = overall.select(pl.lit(-1, dtype=pl.Int32).alias(_BAND), ARTICLE,
                                 pl.col(_SHARE).alias(SCORE))
        self._lists = ranked(pl.concat([smoothed, unknown]), s.cold_start_n, by=_BAND)
        self._with_history = past.transactions.select(CUSTOMER).unique()
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        served = customers.cast(pl.Int32).alias(CUSTOMER).to_frame()
        new = served.join(self._with_history, on=CUSTOMER, how="anti")
        listed = pl.col(_BAND).is_in(self._lists[_BAND].unique().implode())
        bands = new.join(self._bands, on=CUSTOMER, how="left").with_columns(
            pl.when(listed).then(pl.col(_BAND)).otherwise(-1).alias(_BAND))
        return bands.join(self._lists, on=_BAND).select(SOURCE_SCHEMA.names()).sort(CUSTOMER, RANK)
