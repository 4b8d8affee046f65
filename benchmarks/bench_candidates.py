"""Candidate generation: speed and memory at full scale, a pandas comparison, recall, and the knob-off study.

    python benchmarks/bench_candidates.py speed [--raw DIR] [--slice 10]   # full synthetic world by default
    python benchmarks/bench_candidates.py recall [--raw data/raw] [--scale default]
    python benchmarks/bench_candidates.py knobs [--scale default]
    python benchmarks/bench_candidates.py look_alike [--seeds 42 5 7] [--n 12]   # default worlds with photos

speed: every source for every customer, written to parquet shards (hm_lib.candidates.write_candidates),
in a child process whose wall time and peak RSS are measured; then, on a slice of the customers (one in
``--slice``, with all their sales), the same five sources written plainly in pandas against ours.
recall: the recall report of the validation week (as notebook 02 records it).
knobs: synthetic worlds with one planted structure switched off, and the recall of the source meant to
find it. look_alike: the photo source against the catalogue-code one (new_arrivals) at the same number per
customer, recall of the validation week's purchases by article slice (hm_lib.slices), one world per seed.
Prints markdown tables.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from benchmarks.measure import peak_rss_mib, synthetic_raw, world_with_photos  # noqa: E402
from hm_lib.candidates import (  # noqa: E402
    CandidateSettings, Past, fit_sources, generate_candidates, past_at, write_candidates,
)
from hm_lib.candidates.cooccurrence import cooccurrence  # noqa: E402
from hm_lib.config import Config  # noqa: E402
from hm_lib.cutoffs import cutoff_for  # noqa: E402
from hm_lib.data import Dataset, load, prepare  # noqa: E402
from hm_lib.evaluation import candidate_report, recall_at_k, week_truth  # noqa: E402
from hm_lib.slices import article_slices, slice_truth  # noqa: E402
from hm_lib.synthetic import Knobs, generate, load_truth  # noqa: E402

PANDAS_SOURCES = ("repurchase", "together", "similar", "popular", "last_year")
DAY = pd.Timedelta(days=1)




def _world(raw: Path | None, scale: str, seed: int = 42) -> tuple[Path, Path]:
    """A raw folder (given, or a synthetic world written once to /tmp) and its processed folder in /tmp."""
    if raw is None:
        raw = synthetic_raw(scale, seed)
    name = raw.resolve().as_posix().strip("/").replace("/", "_")
    return raw, Path(tempfile.gettempdir()) / "hm_bench_candidates" / name


def _validation_cutoff(ds: Dataset) -> dt.date:
    return cutoff_for(Config(validate=True), ds)


def _slice(ds: Dataset, every: int) -> Dataset:
    """The customers whose index is a multiple of ``every``, with all their sales; every article."""
    keep = pl.col("customer") % every == 0
    return dataclasses.replace(ds, transactions=ds.transactions.filter(keep),
                               customers=ds.customers.filter(keep))


# --- child processes ----------------------------------------------------------------------------------------

def _child_full(raw: str, processed: str, work: str, scale: str) -> dict:
    """Load, then every source for every customer, written as shards."""
    t0 = time.perf_counter()
    ds = load(raw, processed)
    t1 = time.perf_counter()
    past = Past.from_dataset(ds, _validation_cutoff(ds))
    settings = CandidateSettings.for_scale(scale)
    shard = Config.for_scale(scale).shard_customers
    written = write_candidates(past, ds.customers, settings, work, shard, progress=False)
    t2 = time.perf_counter()
    size = sum(p.stat().st_size for p in written.path.glob("part-*.parquet"))
    return {"load_s": t1 - t0, "candidates_s": t2 - t1, "rows": written.rows, "customers": written.customers,
            "shards": written.shards, "transactions": ds.transactions.height, "mib_on_disk": size / 2**20,
            "peak_rss_mib": peak_rss_mib()}


def _child_slice(raw: str, processed: str, every: int, engine: str, out: str) -> dict:
    """The five sources of PANDAS_SOURCES on a customer slice, ours or the pandas version."""
    ds = _slice(load(raw, processed), every)
    cutoff = _validation_cutoff(ds)
    settings = CandidateSettings.for_scale("full")
    customers = ds.customers["customer"]
    start = time.perf_counter()
    if engine == "ours":
        past = Past.from_dataset(ds, cutoff)
        frames = {s.name: s.recommend(customers) for s in fit_sources(past, settings, PANDAS_SOURCES)}
        pairs = {name: f.select("customer", "article_id").to_pandas() for name, f in frames.items()}
    else:
        tx = ds.transactions.select("t_dat", "customer", "article_id").to_pandas()
        tx["t_dat"] = pd.to_datetime(tx["t_dat"])
        arts = ds.articles.select("article_id", "product_code", "product_type_no").to_pandas()
        pairs = pandas_sources(tx, arts, pd.Timestamp(cutoff), customers.to_numpy(), settings)
    seconds = time.perf_counter() - start
    rows = {name: len(p) for name, p in pairs.items()}
    path = Path(out) / f"{engine}.parquet"
    pd.concat([p[KEY].assign(source=name) for name, p in pairs.items()]).to_parquet(path)
    return {"seconds": seconds, "peak_rss_mib": peak_rss_mib(), "rows": rows, "pairs": str(path),
            "transactions": ds.transactions.height, "customers": customers.len()}


def _run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- the pandas reference -----------------------------------------------------------------------------------

KEY = ["customer", "article_id"]


def _window(tx: pd.DataFrame, end: pd.Timestamp, days: int) -> pd.DataFrame:
    return tx[(tx["t_dat"] >= end - days * DAY) & (tx["t_dat"] < end)]


def _by_score(df: pd.DataFrame, first: str | None = None) -> pd.DataFrame:
    """Sorted by ``first``, then score (best first), then article id."""
    cols = ([first] if first else []) + ["score", "article_id"]
    return df.sort_values(cols, ascending=([True] if first else []) + [False, True])


def _top(df: pd.DataFrame, n: int) -> pd.DataFrame:
    return _by_score(df, "customer").groupby("customer").head(n)


def _decay(tx: pd.DataFrame, end: pd.Timestamp, half_life: float) -> pd.Series:
    return 0.5 ** (((end - tx["t_dat"]).dt.days - 1) / half_life)


def _share(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    """Each article's share of the rows: article_id, ``name``."""
    return (rows.groupby("article_id").size() / len(rows)).rename(name).reset_index()


def pd_repurchase(tx: pd.DataFrame, cutoff: pd.Timestamp, s: CandidateSettings) -> pd.DataFrame:
    own = _window(tx, cutoff, s.repurchase_days)
    own = own.assign(score=_decay(own, cutoff, s.repurchase_half_life_days))
    return _top(own.groupby(KEY, as_index=False)["score"].sum(), s.repurchase_n)


def pd_cooccurrence(tx: pd.DataFrame, cutoff: pd.Timestamp, s: CandidateSettings) -> pd.DataFrame:
    """seed, partner, score = P(partner | seed) over customer blocks of cooccurrence_window_days."""
    w = _window(tx, cutoff, s.cooccurrence_days)
    w = w.assign(block=((cutoff - w["t_dat"]).dt.days - 1) // s.cooccurrence_window_days)
    baskets = w[["customer", "block", "article_id"]].drop_duplicates()
    holding = baskets.groupby("article_id").size()
    pairs = baskets.merge(baskets, on=["customer", "block"])
    pairs = pairs[pairs["article_id_x"] != pairs["article_id_y"]]
    p = pairs.groupby(["article_id_x", "article_id_y"]).size().rename("score").reset_index()
    p["score"] = p["score"] / holding.reindex(p["article_id_x"]).to_numpy()
    p = p.rename(columns={"article_id_x": "seed", "article_id_y": "article_id"})
    return _by_score(p, "seed").groupby("seed").head(s.cooccurrence_top)


def pd_together(tx: pd.DataFrame, cutoff: pd.Timestamp, p: pd.DataFrame, s: CandidateSettings
                ) -> pd.DataFrame:
    seeds = _window(tx, cutoff, s.together_seed_days)
    seeds = seeds.assign(w=_decay(seeds, cutoff, s.together_half_life_days))
    seeds = seeds.groupby(KEY, as_index=False)["w"].sum().rename(columns={"article_id": "seed"})
    pairs = seeds.merge(p, on="seed")
    pairs["score"] = pairs["w"] * pairs["score"]
    return _top(pairs.groupby(KEY, as_index=False)["score"].sum(), s.together_n)


def pd_popular(tx: pd.DataFrame, cutoff: pd.Timestamp, p: pd.DataFrame, s: CandidateSettings) -> pd.DataFrame:
    """The list (article_id, score) of last week's best-sellers and their partners."""
    share = _share(_window(tx, cutoff, 7), "score")
    best = _by_score(share).head(s.popular_n)
    seeded = best.rename(columns={"article_id": "seed", "score": "w"}).merge(p, on="seed")
    partner = (seeded["w"] * seeded["score"]).groupby(seeded["article_id"]).sum()
    extra = partner.drop(best["article_id"], errors="ignore").rename("score").reset_index()
    chosen = pd.concat([best["article_id"], _by_score(extra).head(s.popular_partners)["article_id"]])
    own = share.set_index("article_id")["score"]
    score = own.reindex(chosen).fillna(0).to_numpy() + partner.reindex(chosen).fillna(0).to_numpy()
    return pd.DataFrame({"article_id": chosen.to_numpy(), "score": score})


def pd_similar(tx: pd.DataFrame, arts: pd.DataFrame, cutoff: pd.Timestamp, customers: np.ndarray,
               s: CandidateSettings) -> pd.DataFrame:
    """IDF-weighted, normalised histories over product codes; votes of last week's buyers."""
    hist = _window(tx, cutoff, s.similar_history_days).merge(arts[["article_id", "product_code"]])
    prof = hist.groupby(["customer", "product_code"]).size().rename("x").reset_index()
    idf = np.log((prof["customer"].nunique() + 1) / (prof.groupby("product_code").size() + 1))
    prof["x"] = np.log1p(prof["x"]) * idf.reindex(prof["product_code"]).to_numpy()
    prof["x"] = prof["x"] / np.sqrt((prof["x"] ** 2).groupby(prof["customer"]).transform("sum"))
    bought = _window(tx, cutoff, 7)[KEY].drop_duplicates()
    votes = prof.merge(bought, on="customer")
    votes = votes.groupby(["product_code", "article_id"], as_index=False)["x"].sum()
    votes = votes.sort_values(["product_code", "x", "article_id"], ascending=[True, False, True])
    votes = votes.groupby("product_code").head(s.similar_row_top)
    sim = prof[prof["customer"].isin(customers)].merge(votes, on="product_code")
    sim["score"] = sim["x_x"] * sim["x_y"]
    return _top(sim.groupby(KEY, as_index=False)["score"].sum(), s.similar_n)


def pd_last_year(tx: pd.DataFrame, arts: pd.DataFrame, cutoff: pd.Timestamp, s: CandidateSettings
                 ) -> pd.DataFrame:
    """The list (article_id, score) of the same weeks' best-sellers a year ago, mapped to what is on sale."""
    start = cutoff - 7 * s.last_year_weeks_back * DAY
    weeks = 7 * s.last_year_weeks
    then = _share(_window(tx, start + weeks * DAY, weeks), "score").merge(arts)
    now = _share(_window(tx, cutoff, s.on_sale_days), "now").merge(arts)
    on_sale = then["article_id"].isin(now["article_id"])
    gone = then[~on_sale].rename(columns={"article_id": "from"})
    by_code = gone.merge(now[["article_id", "now", "product_code"]], on="product_code")
    no_code = gone[~gone["product_code"].isin(now["product_code"])]
    type_best = now.sort_values(["now", "article_id"], ascending=[False, True])
    type_best = type_best.groupby("product_type_no").head(3)
    by_type = no_code.merge(type_best[["article_id", "now", "product_type_no"]], on="product_type_no")
    handed = pd.concat([by_code, by_type])
    handed["score"] = handed["score"] * handed["now"] / handed.groupby("from")["now"].transform("sum")
    both = pd.concat([then.loc[on_sale, ["article_id", "score"]], handed[["article_id", "score"]]])
    return _by_score(both.groupby("article_id", as_index=False)["score"].sum()).head(s.last_year_n)


def pandas_sources(tx: pd.DataFrame, arts: pd.DataFrame, cutoff: pd.Timestamp, customers: np.ndarray,
                   s: CandidateSettings) -> dict[str, pd.DataFrame]:
    """The sources written plainly in pandas (groupby / merge / sort, no sparse matrices)."""
    served = pd.DataFrame({"customer": customers})
    partners = pd_cooccurrence(tx, cutoff, s)
    out = {
        "repurchase": pd_repurchase(tx, cutoff, s),
        "together": pd_together(tx, cutoff, partners, s),
        "similar": pd_similar(tx, arts, cutoff, customers, s),
        "popular": served.merge(pd_popular(tx, cutoff, partners, s), how="cross"),
        "last_year": served.merge(pd_last_year(tx, arts, cutoff, s), how="cross"),
    }
    return {name: f[f["customer"].isin(customers)] for name, f in out.items()}


# --- commands -----------------------------------------------------------------------------------------------

def speed(raw: Path | None, every: int) -> None:
    raw, processed = _world(raw, "full")
    prepare(raw, processed)  # once, outside the measured runs
    with tempfile.TemporaryDirectory() as work:
        full = _run_child("full", str(raw), str(processed), work, "full")
    print(f"\nraw: {raw}; {full['transactions']:,} transactions, {full['customers']:,} customers\n")
    print("| step | seconds | peak RSS (MiB) | output |\n|---|---:|---:|---|")
    print(f"| load the parquet | {full['load_s']:.1f} | | |")
    print(f"| every source, every customer, {full['shards']} shards written | {full['candidates_s']:.1f} | "
          f"{full['peak_rss_mib']:,.0f} (whole process) | {full['rows']:,} rows, "
          f"{full['mib_on_disk']:,.0f} MiB |")
    with tempfile.TemporaryDirectory() as out:
        ours, plain = (_run_child("slice", str(raw), str(processed), str(every), engine, out)
                       for engine in ("ours", "pandas"))
        a, b = (pd.read_parquet(r["pairs"]) for r in (ours, plain))
    agree = a.merge(b, on=["source", *KEY]).groupby("source").size()
    print(f"\nslice: one customer in {every} ({ours['customers']:,} customers, {ours['transactions']:,} "
          f"transactions), sources {', '.join(PANDAS_SOURCES)}, fit + recommend, in memory\n")
    print("| implementation | seconds | peak RSS (MiB) |\n|---|---:|---:|")
    print(f"| hm_lib.candidates (polars + scipy.sparse) | {ours['seconds']:.1f} | "
          f"{ours['peak_rss_mib']:,.0f} |")
    print(f"| plain pandas | {plain['seconds']:.1f} | {plain['peak_rss_mib']:,.0f} |")
    print(f"| **ratio pandas / ours** | **{plain['seconds'] / ours['seconds']:.1f}** | |")
    print("\n| source | rows (ours) | rows (pandas) | pairs in both |\n|---|---:|---:|---:|")
    for name in PANDAS_SOURCES:
        print(f"| {name} | {ours['rows'][name]:,} | {plain['rows'][name]:,} | {int(agree.get(name, 0)):,} |")


def recall(raw: Path | None, scale: str) -> None:
    raw, processed = _world(raw, scale)
    ds = load(raw, processed)
    cutoff = _validation_cutoff(ds)
    settings = CandidateSettings.for_scale(scale)
    start = time.perf_counter()
    cands = generate_candidates(Past.from_dataset(ds, cutoff), ds.customers, settings)
    seconds = time.perf_counter() - start
    truth = week_truth(ds.transactions, cutoff)
    print(f"\n{raw}: cut-off {cutoff}, {ds.customers.height:,} customers served, "
          f"{truth['customer'].n_unique():,} buyers, {truth.height:,} (customer, article) pairs bought; "
          f"cap {settings.cap}; {seconds:.1f} s\n")
    print(_markdown(candidate_report(cands, truth)))


def look_alike(seeds: list[int], n: int) -> None:
    rows = []
    for seed in seeds:
        world = Path(tempfile.gettempdir()) / f"hm_bench_look_alike_{seed}"
        world_with_photos(world, "default", seed)
        ds = load(world / "raw", world / "processed")
        cutoff = _validation_cutoff(ds)
        cfg = Config.for_scale("default", data_dir=world / "raw", work_dir=world,
                               candidates__sources="new_arrivals,look_alike")
        settings = dataclasses.replace(cfg.settings("candidates", CandidateSettings), new_arrivals_n=n, look_alike_n=n)
        start = time.perf_counter()
        past = past_at(cfg, ds, cutoff, settings)
        photo_seconds = time.perf_counter() - start
        truth = week_truth(ds.transactions, cutoff)
        parts = {"all": truth, **slice_truth(truth, article_slices(ds.transactions, ds.articles["article_id"], cutoff))}
        proposed = {}
        for source in fit_sources(past, settings, ["new_arrivals", "look_alike"]):
            start = time.perf_counter()
            proposed[source.name] = (source.recommend(ds.customers["customer"]), time.perf_counter() - start)
        both = pl.concat([p for p, _ in proposed.values()]).unique(["customer", "article_id"])
        proposed["either"] = (both, 0.0)
        for name, (cands, seconds) in proposed.items():
            rows.append({"seed": seed, "source": name, "per customer": n, "customers": cands["customer"].n_unique(),
                         **{f"recall {part}": recall_at_k(cands, pairs) for part, pairs in parts.items()},
                         "new pairs": parts["new"].height, "seconds": round(seconds + photo_seconds * (
                             name == "look_alike"), 1)})
    print(_markdown(pl.DataFrame(rows)))


# world: (the knobs switched off, the source meant to find that structure)
KNOB_STUDY: dict[str, tuple[dict[str, Any], str]] = {
    "all structures on": ({}, ""),
    "repurchase = 0": ({"repurchase": 0.0}, "repurchase"),
    "taste_strength = style_strength = 0": ({"taste_strength": 0.0, "style_strength": 0.0}, "similar"),
    "basket_partner = 0": ({"basket_partner": 0.0}, "together"),
    "seasonality = 0": ({"seasonality": 0.0}, "last_year"),
}
PEAK_WEEKS = (dt.date(2020, 1, 1), dt.date(2020, 1, 8), dt.date(2020, 6, 17), dt.date(2020, 6, 24))


def knobs(scale: str, weeks: int) -> None:
    settings = CandidateSettings.for_scale(scale)
    recall_rows, season_rows, partner_rows = [], [], []
    with tempfile.TemporaryDirectory(prefix="hm_bench_knobs_") as root:
        for world, (off, finder) in KNOB_STUDY.items():
            raw = Path(root) / world.replace(" ", "") / "raw"
            generate(raw, scale=scale, seed=42, images=False, progress=False,
                     knobs=dataclasses.replace(Knobs.for_scale(scale), **off))
            ds = load(raw, raw.parent / "processed")
            cutoffs = [_validation_cutoff(ds) - dt.timedelta(weeks=i) for i in range(weeks)]
            recall_rows.append({"world": world, "source meant to find it": finder,
                                **_mean_recall(ds, cutoffs, settings)})
            if world in ("all structures on", "seasonality = 0"):
                same = _mean_recall(ds, PEAK_WEEKS, settings, ["last_year"])["last_year"]
                half = _mean_recall(ds, PEAK_WEEKS, settings.replace(last_year_weeks_back=26), ["last_year"])
                season_rows.append({"world": world, "52 weeks back": same, "26 weeks back": half["last_year"],
                                    "ratio": same / half["last_year"]})
            if world in ("all structures on", "basket_partner = 0"):
                share = _planted_partner_share(ds, raw.parent / "synthetic_truth", settings)
                partner_rows.append({"world": world, **share})
    print(f"\n{scale} worlds, seed 42; recall on each of the last {weeks} weeks, averaged; "
          f"cap {settings.cap}\n")
    print(_markdown(pl.DataFrame(recall_rows)))
    print("\nlast_year at the seasonal peaks (weeks of 2020-01-01, -01-08, -06-17, -06-24): the same weeks "
          "a year before vs. half a year before (the opposite season)\n")
    print(_markdown(pl.DataFrame(season_rows)))
    print("\nco-occurrence (the statistics of together and popular) against the generator's planted "
          "partners\n")
    print(_markdown(pl.DataFrame(partner_rows)))


def _mean_recall(ds: Dataset, cutoffs: list[dt.date] | tuple[dt.date, ...], settings: CandidateSettings,
                 names: list[str] | None = None) -> dict[str, float]:
    reports = []
    for cutoff in cutoffs:
        truth = week_truth(ds.transactions, cutoff)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            past = Past.from_dataset(ds, cutoff)
            cands = generate_candidates(past, truth["customer"].unique(), settings, names)
        reports.append(candidate_report(cands, truth).select("source", "recall"))
    mean = pl.concat(reports).group_by("source", maintain_order=True).agg(pl.col("recall").mean())
    return dict(mean.rows())


def _planted_partner_share(ds: Dataset, truth_dir: Path, settings: CandidateSettings) -> dict[str, float]:
    """Share of the articles whose most co-bought article is one the generator planted as a partner."""
    truth = load_truth(truth_dir)
    past = Past.from_dataset(ds, _validation_cutoff(ds))
    learned = cooccurrence(past, settings)
    to_past = past.articles["article_id"].search_sorted(pl.Series(truth.article_ids)).to_numpy()
    coo = truth.partners.tocoo()  # generator positions -> Past positions (article_id order)
    planted = sp.csr_matrix((np.ones(coo.nnz), (to_past[coo.row], to_past[coo.col])), shape=learned.shape)
    rows = np.flatnonzero(np.diff(learned.indptr) > 0)
    top = np.asarray(learned[rows].argmax(axis=1)).ravel()
    hits = np.asarray(planted[rows, top]).ravel() > 0
    return {"articles with co-bought articles": int(rows.size),
            "top co-bought article is a planted partner": float(hits.mean())}


def _markdown(df: pl.DataFrame) -> str:
    cols = df.columns

    def cell(v: object) -> str:
        return f"{v:.4f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|---" + "|---:" * (len(cols) - 1) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.rows()]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *given = sys.argv[2:]
        if kind == "full":
            result = _child_full(*given)
        else:
            result = _child_slice(given[0], given[1], int(given[2]), given[3], given[4])
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--raw", type=Path,
                   help="raw folder (default: the full synthetic world, written once to /tmp)")
    p.add_argument("--slice", type=int, default=10, help="the pandas comparison serves one customer in SLICE")
    p = sub.add_parser("recall")
    p.add_argument("--raw", type=Path)
    p.add_argument("--scale", default="default")
    p = sub.add_parser("knobs")
    p.add_argument("--scale", default="default")
    p.add_argument("--weeks", type=int, default=4)
    p = sub.add_parser("look_alike")
    p.add_argument("--seeds", type=int, nargs="+", default=[42, 5, 7])
    p.add_argument("--n", type=int, default=12, help="candidates per customer of each source")
    args = parser.parse_args()
    if args.command == "speed":
        speed(args.raw, args.slice)
    elif args.command == "recall":
        recall(args.raw, args.scale)
    elif args.command == "look_alike":
        look_alike(args.seeds, args.n)
    else:
        knobs(args.scale, args.weeks)


if __name__ == "__main__":
    main()
