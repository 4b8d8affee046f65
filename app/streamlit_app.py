"""The hm-fashion-recsys demo: a customer's purchases, candidates and 12 recommendations, and why.

`hm demo` (or `make demo`) writes the artefacts this page reads (hm_lib.demo.prepare_demo) and
starts it with their folder in $HM_DEMO_DIR (default: data/demo). The page is drawn from those small
files alone, the recommendations' reasons included. The Feast online store, whose imports take
seconds, is opened once per server in a background thread started after the first page is drawn;
the customer's features appear when it is open.
"""
from __future__ import annotations

import os
import random
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from hm_lib.demo import ACTIVE_DAYS, ACTIVITY, AGE_BANDS, CANDIDATES_PER_SOURCE, DEMO_ENV, DEMO_FILES, read_meta
from hm_lib.reasons import NO_REASON, sentences
from hm_lib.schema import ARTICLE, CUSTOMER, RANK, SCORE, image_relpath

TITLE = "H&M fashion recommendations"
COLUMNS = 6
POLL_SECONDS = 0.5  # how often the page checks whether the feature store is open
PLACEHOLDER = ('<svg xmlns="http://www.w3.org/2000/svg" width="128" height="192">'
               '<rect width="128" height="192" fill="#eeeeee"/>'
               '<text x="64" y="100" font-size="14" text-anchor="middle" fill="#888888">no image</text></svg>')


@dataclass(frozen=True)
class Demo:
    """The artefacts: the small tables in memory, the per-customer ones read on demand."""

    folder: Path
    meta: dict
    customers: pl.DataFrame
    articles: pl.DataFrame
    popular: pl.DataFrame

    def rows(self, name: str, customer: int) -> pl.DataFrame:
        """One customer's rows of an artefact, with the article names (the files are sorted by customer)."""
        rows = pl.scan_parquet(self.folder / DEMO_FILES[name]).filter(pl.col(CUSTOMER) == customer).collect()
        return rows.join(self.articles, on=ARTICLE, how="left", maintain_order="left")


@st.cache_resource(show_spinner=False)
def load_demo(folder: str) -> Demo:
    meta = read_meta(folder)
    path = Path(folder)
    customers, articles, popular = (pl.read_parquet(path / DEMO_FILES[name])
                                    for name in ("customers", "articles", "popular"))
    popular = popular.join(articles, on=ARTICLE, how="left", maintain_order="left")
    return Demo(path, meta, customers, articles, popular)


def _open_store(work_dir: str) -> Any:
    from hm_lib.feature_store import open_store

    return open_store(work_dir)


@st.cache_resource(show_spinner=False)
def feature_store(work_dir: str) -> Future:
    """The Feast store of ``work_dir``, opened once per server in a background thread."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="feast")
    store = pool.submit(_open_store, work_dir)
    pool.shutdown(wait=False)
    return store


def picture(demo: Demo, article_id: int) -> str:
    path = Path(demo.meta["data_dir"]) / image_relpath(article_id)
    return str(path) if path.is_file() else PLACEHOLDER


def grid(demo: Demo, items: pl.DataFrame, captions: Callable[[dict], list[str]]) -> None:
    """Articles as an image grid with ``captions(row)`` under each."""
    for start in range(0, items.height, COLUMNS):
        for column, row in zip(st.columns(COLUMNS), items.slice(start, COLUMNS).iter_rows(named=True)):
            with column:
                st.image(picture(demo, row[ARTICLE]), width="stretch")
                for text in captions(row):
                    st.caption(text)


def segment(demo: Demo) -> pl.DataFrame:
    chosen = demo.customers
    for column, key in (("age_band", "band"), ("activity", "activity")):
        if st.session_state.get(key, "any") != "any":
            chosen = chosen.filter(pl.col(column) == st.session_state[key])
    return chosen


def pick_random(demo: Demo) -> None:
    """Button callback: a random customer of the chosen segment goes into the search box."""
    chosen = segment(demo)
    if chosen.is_empty():
        st.session_state.note = "No customer in this segment."
    else:
        st.session_state.query = chosen["customer_id"][random.randrange(chosen.height)]


def sidebar(demo: Demo) -> None:
    bar = st.sidebar
    bar.header("Customer")
    bar.text_input("Customer id (64 hex characters) or index", key="query")
    bar.selectbox("Age band", ["any", *AGE_BANDS, "unknown"], key="band")
    bar.selectbox("Activity", ["any", *ACTIVITY], key="activity",
                  help=f"active: bought in the {ACTIVE_DAYS} days before the cut-off; lapsed: earlier; new: never")
    bar.button("Random customer from this segment", on_click=pick_random, args=(demo,))
    bar.caption(f"{segment(demo).height:,} customers in this segment")
    if note := st.session_state.pop("note", None):
        bar.warning(note)


def find(demo: Demo, query: str) -> dict | None:
    """The customer of a hex id or an index, or None."""
    text = query.strip().lower()
    if len(text) == 64:
        hit = demo.customers.filter(pl.col("customer_id") == text)
    elif text.isdigit() and len(text) <= 9:
        hit = demo.customers.filter(pl.col(CUSTOMER) == int(text))
    else:
        return None
    return hit.row(0, named=True) if hit.height else None


def default_customer(demo: Demo) -> str:
    """The first customer active before the cut-off (or the first customer)."""
    active = demo.customers.filter(pl.col("activity") == "active")
    return (active if active.height else demo.customers)["customer_id"][0]


def fallback(demo: Demo, query: str) -> None:
    k, cutoff = demo.meta["k"], demo.meta["cutoff"]
    st.info(f"Customer {query.strip()!r} is unknown to the store: here are the {k} best-sellers of the week "
            f"before {cutoff}, the popularity fallback.")
    st.markdown(f"#### {k} recommendations (popularity fallback)")
    grid(demo, demo.popular, lambda r: [f"**#{r[RANK]}** {r['prod_name']} · best-seller"])


def recommendation_captions(sources: list[str]) -> Callable[[dict], list[str]]:
    def captions(row: dict) -> list[str]:
        if row["filled"]:
            origin = "popularity fill (fewer candidates than recommendations)"
        else:
            origin = " · ".join(f"{s} #{row[f'{s}_{RANK}']}" for s in sources if row.get(f"{s}_{RANK}") is not None)
        score = "n/a" if row[SCORE] is None else f"{row[SCORE]:.3f}"
        texts = [f"**#{row[RANK]}** {row['prod_name']} · score {score}  \nfrom {origin}"]
        if row["why"] is not None:
            texts.append("why: " + ("; ".join(sentences(row["why"])) or NO_REASON))
        return texts
    return captions


def contributions(recs: pl.DataFrame) -> pl.DataFrame:
    """One row per recommendation and explained feature: the raw view behind the words, for data scientists."""
    rows = [{"rank": r[RANK], "article": r["prod_name"], "feature": w["feature"],
             "contribution": round(w["contribution"], 4), "value": w.get("value")}
            for r in recs.iter_rows(named=True) for w in (r["why"] or [])]
    return pl.DataFrame(rows, schema={"rank": pl.Int64, "article": pl.String, "feature": pl.String,
                                      "contribution": pl.Float64, "value": pl.Float64})


@st.fragment(run_every=POLL_SECONDS)
def wait_for(store: Future) -> None:
    """Shows a note until the store is open, then draws the whole page again."""
    if store.done():
        st.rerun()
    st.caption("Opening the Feast online store for the customer's features…")


def customer_features(demo: Demo, customer: int, panel: Any) -> None:
    """The customer's features, read from the Feast online store, in ``panel`` (a note while it opens)."""
    store = feature_store(demo.meta["work_dir"])
    if not store.done():
        with panel:
            wait_for(store)
        return
    try:
        from hm_lib.feature_store import online_table

        features = online_table(store.result(), "customer", [customer]).drop(CUSTOMER)
    except Exception as err:  # noqa: BLE001 - the page stays useful without the store
        panel.warning(f"Feature store unavailable ({type(err).__name__}: {err}). "
                      "Run `hm features apply` then `hm features materialize`.")
        return
    if all(v is None for v in features.row(0)):
        panel.info(f"Customer {customer} is missing from the Feast online store (not materialised).")
        return
    panel.markdown(f"**Customer features** (Feast online store, cut-off {demo.meta['cutoff']})")
    panel.dataframe(features, hide_index=True)


def show_customer(demo: Demo, customer: dict) -> None:
    k, cutoff, c = demo.meta["k"], demo.meta["cutoff"], customer[CUSTOMER]
    age = "unknown" if customer["age"] is None else f"{customer['age']:.0f}"
    st.subheader(f"Customer {c}")
    st.caption(f"{customer['customer_id']} · age {age} ({customer['age_band']}) · {customer['activity']} · "
               f"{customer['purchases']} purchases before {cutoff}")
    panel = st.container()
    history = demo.rows("history", c)
    st.markdown(f"#### Latest purchases ({history.height})")
    if history.is_empty():
        st.write("No purchase before the cut-off: a cold start.")
    grid(demo, history, lambda r: [f"{r['t_dat']} · {r['prod_name']}"])
    recs = demo.rows("recommendations", c)
    st.markdown(f"#### {k} recommendations for the week from {cutoff}")
    grid(demo, recs, recommendation_captions(demo.meta["sources"]))
    with st.expander("The ranker's features behind each recommendation (contribution to its score, value)"):
        st.dataframe(contributions(recs), hide_index=True)
    st.markdown(f"#### Candidates by source (best {CANDIDATES_PER_SOURCE} of each)")
    candidates = demo.rows("candidates", c)
    for tab, source in zip(st.tabs(demo.meta["sources"]), demo.meta["sources"]):
        with tab:
            mine = candidates.filter(pl.col("source") == source)
            if mine.is_empty():
                st.write(f"No candidate from {source}.")
            grid(demo, mine, lambda r: [f"#{r['source_rank']} {r['prod_name']}"])
    customer_features(demo, c, panel)


def main() -> None:
    st.set_page_config(page_title=TITLE, layout="wide")
    st.title(TITLE)
    try:
        demo = load_demo(os.environ.get(DEMO_ENV, "data/demo"))
    except FileNotFoundError as err:
        st.error(str(err))
        st.stop()
    sidebar(demo)
    query = st.session_state.get("query") or st.query_params.get("customer") or default_customer(demo)
    customer = find(demo, query)
    if customer is None:
        fallback(demo, query)
        feature_store(demo.meta["work_dir"])  # opened now, for the next customer
    else:
        show_customer(demo, customer)


main()
