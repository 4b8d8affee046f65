"""Every source, fitted on one Past, and their union for a set of customers."""
from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from hm_lib.candidates.base import CandidateSource, union
from hm_lib.candidates.cold_start import ColdStart
from hm_lib.candidates.last_year import LastYear
from hm_lib.candidates.look_alike import LookAlike
from hm_lib.candidates.new_arrivals import NewArrivals
from hm_lib.candidates.past import Past
from hm_lib.candidates.popular import Popular
from hm_lib.candidates.repurchase import Repurchase
from hm_lib.candidates.settings import CandidateSettings
from hm_lib.candidates.similar import SimilarCustomers
from hm_lib.candidates.together import BoughtTogether
from hm_lib.errors import SettingError
from hm_lib.sales import Customers, customer_frame
from hm_lib.schema import CUSTOMER

# In the union's order of precedence (a tie in rank goes to the earlier source).
SOURCES: dict[str, type[CandidateSource]] = {
    cls.name: cls for cls in (Repurchase, BoughtTogether, SimilarCustomers, Popular, LastYear, ColdStart,
                          NewArrivals, LookAlike)
}


def source_names(settings: CandidateSettings, names: Sequence[str] | None = None) -> list[str]:
    """``names``, or the sources the settings run (``candidates__sources``), checked against :data:`SOURCES`."""
    names = list(settings.sources if names is None else names)
    unknown = [n for n in names if n not in SOURCES]
    if unknown or not names:
        raise SettingError(f"unknown candidate source(s) {unknown}; choose from {', '.join(SOURCES)}" if unknown
                           else "no candidate source to run: candidates__sources is empty")
    return names


def fit_sources(past: Past, settings: CandidateSettings, names: Sequence[str] | None = None
                ) -> list[CandidateSource]:
    """The named sources (default: the settings', :func:`source_names`), fitted on ``past``."""
    return [SOURCES[name](settings).fit(past) for name in source_names(settings, names)]


def propose(sources: Sequence[CandidateSource], customers: Customers, cap: int) -> pl.DataFrame:
    """The union (:func:`~hm_lib.candidates.base.union`) of the fitted sources' rows for ``customers``."""
    served = customer_frame(customers)[CUSTOMER]
    return union({source.name: source.recommend(served) for source in sources}, cap)


def generate_candidates(past: Past, customers: Customers, settings: CandidateSettings,
                        names: Sequence[str] | None = None) -> pl.DataFrame:
    """Fit the sources on ``past`` and return the capped union for ``customers``, in memory."""
    return propose(fit_sources(past, settings, names), customers, settings.cap)
