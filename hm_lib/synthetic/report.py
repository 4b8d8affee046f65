"""The world report: the knobs used and the world's figures beside the real data's."""
from __future__ import annotations

from pathlib import Path

import polars as pl

from hm_lib.io import read_json, write_json
from hm_lib.world_figures import TOLERANCE, compare, world_figures

REPORT_FILE = "world_report.json"


def write_report(truth_dir: Path, settings: dict, transactions: pl.DataFrame, customers: pl.DataFrame,
                 articles: pl.DataFrame, images_dir: Path | None) -> dict:
    """Compute the figures of a freshly written world and save them with its settings."""
    figures = world_figures(transactions, customers, articles, images_dir)
    table = compare(figures)
    report = {"settings": settings, "figures": figures, "tolerance": TOLERANCE,
              "within": int(table["within"].sum()), "compared": int(table["within"].is_not_null().sum())}
    write_json(report, Path(truth_dir) / REPORT_FILE)
    return report


def load_report(truth_dir: Path) -> dict | None:
    path = Path(truth_dir) / REPORT_FILE
    return read_json(path) if path.exists() else None


def show_report(report: dict) -> pl.DataFrame:
    """Print the settings and draw the comparison chart; returns the comparison table."""
    from hm_lib.eda import figures_chart

    s = report["settings"]
    print(f"scale {s['scale']}, seed {s['seed']}, end date {s['end_date']}; "
          f"{report['within']} of {report['compared']} figures within {report['tolerance']:.0%} of the real data")
    print("knobs:", ", ".join(f"{k}={v}" for k, v in s["knobs"].items()))
    table = compare(report["figures"])
    figures_chart(table)
    return table
