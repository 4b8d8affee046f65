"""Popular at the same time last year, mapped to what is on sale now."""
from __future__ import annotations

import datetime as dt
import warnings

import polars as pl

from hm_lib.candidates.base import CandidateSource, for_everyone
from hm_lib.candidates.past import POS, Past
from hm_lib.schema import ARTICLE, RANK, SCORE

TYPE_FANOUT = 3  # on-sale best-sellers of the product type standing in for a vanished article
_NOW, _FROM, _ON_SALE = "_recent_share", "_from", "_on_sale"


class NoLastYearWarning(UserWarning):
    """The data does not reach a year before the target week: the last-year source proposes nothing."""


class LastYear(CandidateSource):
    """The best-sellers of ``last_year_weeks`` weeks from ``last_year_weeks_back`` weeks before the cut-off.

    An article counts as on sale when it sold in the last ``on_sale_days``. A best-seller still on
    sale is proposed itself; one that is gone hands its share of last year's sales to the on-sale
    articles of its product code (new colours, relaunches), in proportion to their recent sales,
    or, when its code has none, to the ``TYPE_FANOUT`` recent best-sellers of its product type.
    Scores add up; the same ``last_year_n`` articles go to every customer. Without a year of
    history the source proposes nothing (:class:`NoLastYearWarning`).
    """

    name = "last_year"

    def fit(self, past: Past) -> LastYear:
        s = self.settings
        start = past.cutoff - dt.timedelta(weeks=s.last_year_weeks_back)
        end = start + dt.timedelta(weeks=s.last_year_weeks)
        if past.first_day >= end:
            warnings.warn(f"the data starts {past.first_day}, after the weeks from {start}, "
                          f"{s.last_year_weeks_back} weeks before the cut-off: no candidates from last year",
                          NoLastYearWarning, stacklevel=2)
        articles = past.articles
        then = _sales(past.window(7 * s.last_year_weeks, end))
        now = _sales(past.window(s.on_sale_days, past.week_end)).rename({SCORE: _NOW}).join(articles, on=POS)
        on_sale = now.select(POS, pl.lit(True).alias(_ON_SALE))
        then = then.join(articles, on=POS).join(on_sale, on=POS, how="left")
        gone = then.filter(pl.col(_ON_SALE).is_null()).select(
            pl.col(POS).alias(_FROM), "product_code", "product_type_no", SCORE)
        by_sales = now.sort([_NOW, POS], descending=[True, False])
        type_best = by_sales.group_by("product_type_no", maintain_order=True).head(TYPE_FANOUT)
        stand_ins = pl.concat([
            gone.join(now.select(POS, _NOW, "product_code"), on="product_code"),
            gone.join(now, on="product_code", how="anti").join(type_best.select(POS, _NOW, "product_type_no"),
                                                               on="product_type_no"),
        ], how="diagonal")
        handed = stand_ins.select(POS, pl.col(SCORE) * pl.col(_NOW) / pl.col(_NOW).sum().over(_FROM))
        kept = then.filter(pl.col(_ON_SALE)).select(POS, SCORE)
        self._list = (
            pl.concat([kept, handed]).group_by(POS).agg(pl.col(SCORE).sum())
            .join(articles.select(POS, ARTICLE), on=POS)
            .sort([SCORE, ARTICLE], descending=[True, False]).head(s.last_year_n)
            .with_columns(pl.int_range(1, pl.len() + 1).alias(RANK))
        )
        return self

    def recommend(self, customers: pl.Series) -> pl.DataFrame:
        return for_everyone(self._list, customers)


def _sales(rows: pl.DataFrame) -> pl.DataFrame:
    """Each article's share of the rows: pos, score."""
    return rows.group_by(POS).agg(pl.len().alias(SCORE)).with_columns(pl.col(SCORE) / pl.col(SCORE).sum())
