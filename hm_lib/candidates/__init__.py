"""Stage one of the recommender: candidate articles for every customer, from several sources.

Sources (one module each, one interface: :class:`~hm_lib.candidates.base.CandidateSource`):
repurchase, bought together with the customer's recent purchases, bought last week by similar
customers, last week's best-sellers and their partners, popular at the same time last year, and
age-band best-sellers for customers without history, new arrivals by the codes of what the customer buys,
and (``candidates__sources``) new arrivals that look like it. :func:`write_candidates` writes their
capped union per cut-off and customer shard; ``hm_lib.evaluation.candidate_report`` measures it.
"""
from hm_lib.candidates.base import SOURCE_SCHEMA, CandidateSource, union
from hm_lib.candidates.generate import SOURCES, fit_sources, generate_candidates, propose, source_names
from hm_lib.candidates.past import CutoffError, Past
from hm_lib.candidates.photos import past_at
from hm_lib.candidates.settings import CandidateSettings
from hm_lib.candidates.shards import WrittenCandidates, read_candidates, write_candidates

__all__ = [
    "SOURCES", "SOURCE_SCHEMA", "CandidateSettings", "CandidateSource", "CutoffError", "Past",
    "WrittenCandidates", "fit_sources", "generate_candidates", "past_at", "propose", "read_candidates",
    "source_names", "union", "write_candidates",
]
