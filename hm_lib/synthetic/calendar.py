"""The time axis of a synthetic world: days and weeks aligned on the last day of data.

Week `w` of `weeks` data weeks ends on `end - 7 * (weeks - 1 - w)`; the last data week is
the validation week of the chain, and week `weeks` (one past the data) is the hidden target week.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

REAL_START = dt.date(2018, 9, 20)
REAL_END = dt.date(2020, 9, 22)
DAYS = (REAL_END - REAL_START).days + 1  # 734, as in the real files


@dataclass(frozen=True)
class Calendar:
    end: dt.date

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=DAYS - 1)

    @property
    def weeks(self) -> int:
        """Number of data weeks (the first may be shorter than 7 days)."""
        return -(-DAYS // 7)

    def week_start_day(self, w: int) -> int:
        """Day index (0 = start) of the first day of week w (may be negative for week 0)."""
        return DAYS - 7 * (self.weeks - w)

    def week_start(self, w: int) -> dt.date:
        return self.start + dt.timedelta(days=self.week_start_day(w))

    def week_of(self, day: dt.date) -> int:
        """Week index containing a date (data weeks, or the target week and beyond)."""
        return ((day - self.start).days - self.week_start_day(0)) // 7

    def week_of_year(self, w: int) -> np.ndarray | float:
        """Fractional position in the year (0..1) of the middle of week w."""
        mid = self.week_start(w) + dt.timedelta(days=3)
        return (mid.timetuple().tm_yday - 1) / 365.25
