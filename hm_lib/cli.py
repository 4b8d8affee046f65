"""`hm`: the project's single command-line entry point.

Every sub-command calls the same hm_lib functions as the notebooks.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import traceback
import warnings
from pathlib import Path

from hm_lib.config import SCALES, Config
from hm_lib.errors import HMError

log = logging.getLogger("hm")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"image size must look like 128x192, got {text!r}") from None
    return w, h


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"dates are YYYY-MM-DD, got {text!r}") from None


def _raw(args: argparse.Namespace) -> Path:
    """``--data`` as a folder of plain files (the Kaggle zip or .csv.gz files are unpacked once)."""
    from hm_lib.archive import raw_folder

    return raw_folder(args.data, args.work)


def cmd_generate(args: argparse.Namespace) -> int:
    from hm_lib.synthetic import generate

    rep = generate(args.out, scale=args.scale, seed=args.seed, images=False if args.no_images else None,
                   image_size=args.image_size, end_date=args.end_date, force=args.force,
                   truth_dir=args.truth_dir)
    state = "reused" if rep.reused else f"written in {rep.seconds:.1f} s"
    print(f"{rep.out_dir}: {rep.customers:,} customers, {rep.articles:,} articles, "
          f"{rep.transactions:,} transactions, {rep.images:,} images ({state}); ground truth in {rep.truth_dir}")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from hm_lib.data import prepare

    cfg = Config(data_dir=Path(args.data), work_dir=Path(args.work))
    rep = prepare(cfg.data_dir, cfg.processed_dir, force=args.force, allow_future=args.allow_future)
    print(rep)
    return 0


def _dataset(args: argparse.Namespace, validate: bool = False):
    from hm_lib.data import load

    cfg = Config(data_dir=_raw(args), work_dir=Path(args.work), validate=validate)
    return cfg, load(cfg.data_dir, cfg.processed_dir)


def cmd_baseline(args: argparse.Namespace) -> int:
    from hm_lib.cutoffs import cutoff_for
    from hm_lib.validation import baseline_run

    cfg, ds = _dataset(args, validate=args.validate)
    result = baseline_run(cfg, ds, args.name, cutoff_for(cfg, ds), validate=args.validate)
    print(json.dumps(result, indent=2, default=str))
    return 0


def cmd_oracle(args: argparse.Namespace) -> int:
    from hm_lib.validation import oracle_run

    cfg, ds = _dataset(args)
    result = oracle_run(cfg, ds, args.week_start)
    print(json.dumps(result, indent=2, default=str))
    return 0


def _scale(args: argparse.Namespace, raw_dir: Path) -> str:
    """``--scale``, or the scale of the data's size (said on the first line)."""
    from hm_lib.config import scale_for
    from hm_lib.data import count_customers

    if args.scale is not None:
        log.info("scale: %s (--scale)", args.scale)
        return args.scale
    customers = count_customers(raw_dir)
    scale = scale_for(customers)
    log.info("scale: %s, chosen from the data (%s customers in %s); --scale overrides", scale,
             f"{customers:,}", raw_dir / "customers.csv")
    return scale


def cmd_run(args: argparse.Namespace) -> int:
    from hm_lib.chain import run_chain, summary
    from hm_lib.config import parse_overrides
    from hm_lib.data import prepare

    overrides = parse_overrides([*args.set, *([f"cluster__workers={args.workers}"] if args.workers is not None else []),
                                 *([f"cluster__address={args.cluster}"] if args.cluster else [])])
    raw = _raw(args)
    cfg = Config.for_scale(_scale(args, raw), data_dir=raw, work_dir=args.work, output_dir=args.outputs,
                           seed=args.seed, validate=args.validate, **overrides)
    prepare(cfg.data_dir, cfg.processed_dir, allow_future=args.allow_future)  # bad input fails here, in one line
    run_chain(cfg, from_stage=args.from_stage, force=args.force)
    for line in summary(cfg):
        print(line)
    return 0


def cmd_validate_submission(args: argparse.Namespace) -> int:
    from hm_lib.data import load
    from hm_lib.submission import validate_submission

    ds = load(_raw(args), Path(args.work) / "processed")
    rep = validate_submission(args.file, ds.customers, ds.articles)  # SubmissionError names the file
    print(f"{args.file}: valid ({rep})")
    return 0


def _serving(args: argparse.Namespace) -> Config:
    """Config of `hm features` and `hm demo`; Feast's info logging only with -v."""
    if not args.verbose:
        logging.getLogger("feast").setLevel(logging.WARNING)
    raw = _raw(args)
    return Config.for_scale(_scale(args, raw), data_dir=raw, work_dir=args.work, validate=args.validate,
                            cutoff=args.cutoff)


def cmd_features(args: argparse.Namespace) -> int:
    from hm_lib import feature_store, layout
    from hm_lib.cutoffs import cutoff_for
    from hm_lib.data import load_config

    cfg = _serving(args)
    ds = load_config(cfg)
    cutoff = cutoff_for(cfg, ds)
    if args.action == "materialize":
        feature_store.materialize(cfg, cutoff)
        print(f"{layout.store_dir(cfg.work_dir)}: online store loaded with the features of the cut-off "
              f"{cutoff}")
    else:
        feature_store.apply(cfg, ds, cutoff)
        days = ", ".join(str(day) for day in feature_store.cutoffs(cfg, cutoff))
        print(f"{layout.store_dir(cfg.work_dir)}: feature tables of the cut-offs {days} registered; "
              f"next: hm features materialize")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hm_lib import demo

    cfg = _serving(args)
    cutoff = cfg.cutoff  # None: the latest predictions on disk (see prepare_demo)
    if args.validate:
        from hm_lib.cutoffs import cutoff_for
        from hm_lib.data import load_config

        cutoff = cutoff_for(cfg, load_config(cfg))
    prepared = demo.prepare_demo(cfg, cutoff, force=args.force)
    done = {(False, False): "reused", (False, True): "artefacts rewritten, feature store reused",
            (True, True): "feature store and artefacts rebuilt"}[prepared.store_rebuilt, prepared.artefacts_rebuilt]
    print(f"demo artefacts for the cut-off {prepared.cutoff} in {prepared.folder} ({done}, {prepared.seconds:.1f} s)",
          flush=True)
    if args.prepare_only:
        return 0
    print(f"serving the demo on http://127.0.0.1:{args.port} (Ctrl+C stops it)", flush=True)
    demo.serve(prepared.folder, args.port)  # exits when the server stops
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hm", description="hm-fashion-recsys: H&M fashion recommendations (MAP@12)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True)

    def data_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--data", default="data/raw", help="folder with the raw competition files (default data/raw)")
        sp.add_argument("--work", default="data", help="folder for derived data (default data)")

    def allow_future(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--allow-future", action="store_true",
                        help="accept transactions dated after today (refused by default: a wrong date moves the cut-off)")

    g = sub.add_parser("generate", help="write a synthetic H&M world in the raw competition format")
    g.add_argument("--scale", choices=SCALES, default="default")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--out", default="data/raw")
    g.add_argument("--truth-dir", default=None, help="ground truth folder (default OUT/../synthetic_truth)")
    g.add_argument("--no-images", action="store_true")
    g.add_argument("--image-size", type=_size, default=(128, 192), metavar="WxH")
    g.add_argument("--end-date", type=_date, default=dt.date(2020, 9, 22))
    g.add_argument("--force", action="store_true", help="rewrite even if the same world is there")
    g.set_defaults(func=cmd_generate)

    pr = sub.add_parser("prepare", help="validate the raw files and convert them to typed parquet")
    data_args(pr)
    pr.add_argument("--force", action="store_true")
    allow_future(pr)
    pr.set_defaults(func=cmd_prepare)

    b = sub.add_parser("baseline", help="a baseline's predictions (submission, or MAP@12 with --validate)")
    data_args(b)
    b.add_argument("name", choices=("popular", "decayed_repurchase"), help="(a) popular: last week's best-sellers; (b) decayed_repurchase: own recent purchases, then time-decayed popularity")
    b.add_argument("--validate", action="store_true", help="hold out the last 7 days and score them")
    b.set_defaults(func=cmd_baseline)

    o = sub.add_parser("oracle", help="the synthetic world's 12 most probable articles per customer, scored")
    data_args(o)
    o.add_argument("--week-start", type=_date, required=True)
    o.set_defaults(func=cmd_oracle)

    r = sub.add_parser("run", help="run the notebook chain with papermill")
    data_args(r)
    r.add_argument("--outputs", default="outputs")
    r.add_argument("--scale", choices=SCALES, default=None,
                   help="settings for a data size (default: chosen from the number of customers)")
    r.add_argument("--seed", type=int, default=42)
    r.add_argument("--validate", action="store_true", help="cut off 7 days early and write outputs/validation.json")
    r.add_argument("--from", dest="from_stage", default=None, help="start at this notebook (e.g. 02_candidates)")
    r.add_argument("--force", action="store_true", help="rerun stages even if up to date")
    allow_future(r)
    r.add_argument("--set", action="append", default=[], metavar="SECTION__FIELD=VALUE",
                   help="override a stage setting, e.g. --set negatives__ratio=5 (repeatable)")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="run the heavy stages' shards on a local Dask cluster of N worker processes "
                            "(full scale: 2 unless given; 0: one process)")
    where.add_argument("--cluster", default=None, metavar="ADDRESS",
                       help="run them on a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    r.set_defaults(func=cmd_run)

    def serving_args(sp: argparse.ArgumentParser) -> None:
        data_args(sp)
        sp.add_argument("--scale", choices=SCALES, default=None,
                        help="settings for a data size (default: chosen from the number of customers)")
        sp.add_argument("--validate", action="store_true",
                        help="the validation cut-off (7 days before the data ends)")
        sp.add_argument("--cutoff", type=_date, default=None, help="this cut-off instead (YYYY-MM-DD)")

    f = sub.add_parser("features", help="the Feast feature store: apply (write the tables, register), materialize")
    f.add_argument("action", choices=("apply", "materialize"),
                   help="apply: the feature tables of the cut-off and its training weeks into the offline store, "
                        "then register them; materialize: the cut-off's features into the online store")
    serving_args(f)
    f.set_defaults(func=cmd_features)

    d = sub.add_parser("demo", help="the Streamlit demo on 127.0.0.1 (first brings its feature store and artefacts up to date)")
    serving_args(d)
    d.add_argument("--port", type=int, default=8501)
    d.add_argument("--prepare-only", action="store_true", help="write the artefacts, do not serve")
    d.add_argument("--force", action="store_true",
                   help="rebuild the feature store and the artefacts even if their inputs have not changed")
    d.set_defaults(func=cmd_demo)

    v = sub.add_parser("validate-submission", help="check a submission file against the customers and articles")
    data_args(v)
    v.add_argument("file")
    v.set_defaults(func=cmd_validate_submission)
    return p


class _Lines(logging.Formatter):
    """INFO lines as they are (progress); other levels prefixed with theirs (and the logger with -v)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s" if verbose else "%(levelname)s: %(message)s")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage() if record.levelno == logging.INFO and not self.verbose else super().format(record)


def _log_to_stderr(verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_Lines(verbose))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {category.__name__}: {message}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; an expected error (HMError) is one line on stderr and its exit code."""
    args = build_parser().parse_args(argv)
    _log_to_stderr(args.verbose)
    if not args.verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's and absl's C++ log lines (kernels too)
    with warnings.catch_warnings():
        if not args.verbose:
            warnings.showwarning = _one_line_warning
        try:
            return args.func(args)
        except HMError as err:
            if args.verbose:
                traceback.print_exc()
            print(f"hm {args.command}: {err.one_line()}", file=sys.stderr)
            return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
