"""Weekly schedules: `{mon-fri: "09:00-18:00", sat: "10:00-14:00"}` into core.model.WeeklySchedule."""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.model import WeeklySchedule
from webhook_app.config.problems import Path, Reporter

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")

Interval = tuple[int, int]


def parse_schedule(raw: Mapping[str, str], path: Path, report: Reporter) -> WeeklySchedule:
    """A weekly schedule; days not mentioned are off, and a night shift spills into the next day."""
    days: list[list[Interval]] = [[] for _ in DAYS]
    set_by: dict[int, str] = {}
    for key, value in raw.items():
        weekdays = _weekdays(key, (*path, key), report)
        intervals = _intervals(value, (*path, key), report)
        for day in weekdays:
            if day in set_by:
                report.error((*path, key), report.words["day_taken"].format(day=DAYS[day], key=set_by[day]))
                continue
            set_by[day] = key
            for start, end in intervals:
                if start < end:
                    days[day].append((start, end))
                else:  # "22:00-06:00": the evening today, the early hours on the next weekday
                    days[day].append((start, DAY_MINUTES))
                    if end > 0:
                        days[(day + 1) % 7].append((0, end))
    return WeeklySchedule(days=tuple(_merged(d) for d in days))


def _weekdays(key: str, path: Path, report: Reporter) -> list[int]:
    result: list[int] = []
    for part in key.replace(" ", "").lower().split(","):
        first, sep, last = part.partition("-")
        if first not in DAYS or (sep and last not in DAYS):
            report.error(path, report.words["not_a_day"].format(key=key, days=", ".join(DAYS)))
            return []
        a, b = DAYS.index(first), DAYS.index(last if sep else first)
        result += [(a + i) % 7 for i in range((b - a) % 7 + 1)]  # fri-mon wraps over the weekend
    return result


def _intervals(value: str, path: Path, report: Reporter) -> list[Interval]:
    if value.strip().lower() == "off":
        return []
    result: list[Interval] = []
    for part in value.split(","):
        text = part.strip()
        match = _INTERVAL.match(text)
        if match is None:
            report.error(path, report.words["not_interval"].format(text=text))
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 > 0):
            report.error(path, report.words["bad_time"].format(text=text))
            continue
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            report.error(path, report.words["empty_interval"].format(text=text))
            continue
        result.append((start, end))
    return result if _apart(result, path, report) else []


def _apart(intervals: list[Interval], path: Path, report: Reporter) -> bool:
    """Whether one day's intervals do not overlap; if two do, say what to write instead.

    "09:00-18:00, 13:00-14:00" reads like a lunch break but means 09:00-18:00: refused, with
    "09:00-13:00, 14:00-18:00" as the fix. Touching intervals ("09:00-13:00, 13:00-18:00") are fine;
    a night shift (end before start) is left to the day it spills into.
    """
    day = sorted((a, b) for a, b in intervals if a < b)
    for i, (a, b) in enumerate(day):
        for c, d in day[i + 1 :]:
            if c >= b:
                continue
            if d <= b:  # (c, d) lies inside (a, b): a lunch break written as a second interval
                fixed = ", ".join(_span(x, y) for x, y in ((a, c), (d, b)) if x < y)
                message = report.words["lunch_break"].format(
                    inner=_span(c, d), outer=_span(a, b), fixed=fixed
                )
            else:
                merged = _span(a, d)
                message = report.words["overlap"].format(first=_span(a, b), second=_span(c, d), fixed=merged)
            report.error(path, message)
            return False
    return True


def _span(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def _merged(intervals: list[Interval]) -> tuple[Interval, ...]:
    """Sorted, with overlapping or touching intervals joined."""
    result: list[Interval] = []
    for start, end in sorted(intervals):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return tuple(result)
