"""Progress a person can follow: the library's log lines and progress bars, wherever it runs.

In JupyterLab a bar is a widget and in a terminal a text bar (tqdm's own choice). Under `hm run`
(which sets ``TEXT_ENV`` for its notebooks' kernels) a bar is plain text on stderr, redrawn at most
every ``CHAIN_INTERVAL`` seconds: the kernel's stderr is both the executed notebook's output and,
forwarded by the chain, the run's terminal. :func:`show_progress` (each notebook's first cell) sends
hm_lib's INFO lines, such as the training epochs, to the same stream.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm as auto_tqdm
from tqdm.std import tqdm as text_tqdm

TEXT_ENV = "HM_PROGRESS_TEXT"
CHAIN_INTERVAL = 10.0  # seconds between redraws of a text bar under `hm run`
HANDLER_NAME = "hm_lib.progress"


def text_mode() -> bool:
    """Whether bars are plain text (running inside a notebook of `hm run`)."""
    return bool(os.environ.get(TEXT_ENV))


def bar(iterable: Iterable[Any] | None = None, *, desc: str, total: int | None = None, unit: str = "it",
        disable: bool | None = None, **kwargs: Any) -> text_tqdm:
    """A tqdm progress bar (see the module docstring); ``disable=None`` hides it where nobody looks."""
    if text_mode():
        return text_tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr, ascii=True, ncols=100,
                         mininterval=CHAIN_INTERVAL, disable=bool(disable), **kwargs)
    return auto_tqdm(iterable, desc=desc, total=total, unit=unit, disable=disable, **kwargs)


class _LineHandler(logging.StreamHandler):
    """Log lines on stderr; in text mode through tqdm, which lifts a bar being drawn above the line."""

    def emit(self, record: logging.LogRecord) -> None:
        if not text_mode():
            super().emit(record)
            return
        try:
            text_tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def show_progress(level: int = logging.INFO) -> None:
    """hm_lib's log lines (``level`` and above) on stderr, once however often it is called."""
    logger = logging.getLogger("hm_lib")
    logger.setLevel(level)
    if not any(h.get_name() == HANDLER_NAME for h in logger.handlers):
        handler = _LineHandler(sys.stderr)
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
