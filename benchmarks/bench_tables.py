"""The two kernels of scoring every customer, at full-size shapes, on random weights (no world needed).

    python -m benchmarks.bench_tables                 # 1.37M customers, 105k articles, 10 members
    python -m benchmarks.bench_tables --customers 60000 --articles 8000

1. A member's customer table (stage 05, twice per member): the Keras customer tower over every
   customer against :meth:`ImageRelevanceModel.customer_table` (history items projected once).
2. The stacked relevance of one ranking shard (50k customers x 76 candidates, stage 06): every
   member's logits then the stacker (:meth:`RelevanceScorer.member_logits`) against the members side
   by side (:meth:`RelevanceScorer.stacked_logits`).

Prints a markdown table: seconds of each, and the largest difference between the two.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def customer_tables(customers: int, articles: int, sample: int, seed: int) -> tuple[float, float, float]:
    """(Keras tower seconds, table seconds, max |difference|) for ``sample`` customers, scaled to all."""
    from hm_lib.image_model.model import RelevanceModel
    from hm_lib.image_model.scoring import CUSTOMER_CHUNK, ImageRelevanceModel, in_chunks

    rng = np.random.default_rng(seed)
    model = RelevanceModel("no_image", customers, articles, [100], [50, 30, 20, 10, 200, 20], history_length=20,
                           history_image_dim=64, customer_ids=False)
    model(model.dummy_inputs())
    for weight in model.trainable_weights:
        weight.assign(rng.normal(size=weight.shape).astype("float32") * 0.1)
    model.set_history(rng.integers(-1, articles, size=(customers, 20)).astype(np.int32),
                      rng.normal(size=(articles, 64)).astype(np.float32))
    some = np.arange(min(sample, customers), dtype=np.int32)
    start = time.perf_counter()
    tower = in_chunks(model.customer_vectors, some, CUSTOMER_CHUNK, model.k + 1)
    keras_seconds = time.perf_counter() - start
    start = time.perf_counter()
    table = ImageRelevanceModel(model, None, np.arange(articles), None).customer_table(some)
    table_seconds = time.perf_counter() - start
    scale = customers / some.size
    return keras_seconds * scale, table_seconds * scale, float(np.abs(table - tower).max())


def shard_relevance(customers: int, articles: int, members: int, per_customer: int, seed: int
                    ) -> tuple[float, float, float]:
    """(per-member seconds, side-by-side seconds, max |difference| of the stacked logits) for one shard."""
    from hm_lib.ensemble.scorer import RelevanceScorer

    rng = np.random.default_rng(seed)
    scorer = RelevanceScorer(np.arange(articles), rng.normal(size=(members, customers, 33)).astype(np.float16),
                             rng.normal(size=(members, articles, 33)).astype(np.float32),
                             rng.normal(size=members).astype(np.float32),
                             rng.normal(size=members).astype(np.float32), 0.1)
    who = np.repeat(np.arange(min(50_000, customers)), per_customer)
    what = rng.integers(0, articles, who.size)
    start = time.perf_counter()
    before = scorer.member_logits(who, what) @ scorer.stack_weights + scorer.stack_bias
    member_seconds = time.perf_counter() - start
    start = time.perf_counter()
    after = scorer.stacked_logits(who, what)
    return member_seconds, time.perf_counter() - start, float(np.abs(after - before).max())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1_371_980)
    p.add_argument("--articles", type=int, default=105_542)
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--sample", type=int, default=200_000, help="customers timed for the table (scaled to all)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    tower, table, table_diff = customer_tables(args.customers, args.articles, args.sample, args.seed)
    members, side, stack_diff = shard_relevance(args.customers, args.articles, args.members, 76, args.seed)
    print(f"{args.customers:,} customers, {args.articles:,} articles, {args.members} members\n")
    print("| kernel | before (s) | after (s) | max difference |\n|---|---:|---:|---:|")
    print(f"| customer table, every customer | {tower:.1f} | {table:.1f} | {table_diff:.1e} |")
    print(f"| stacked relevance, one shard of 50k customers x 76 | {members:.1f} | {side:.1f} | {stack_diff:.1e} |")


if __name__ == "__main__":
    main()
