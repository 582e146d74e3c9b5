"""Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC.

The sandbox fires alert evaluations on their cron schedule, so it needs the times an expression
names: :func:`parse` checks an expression (``invalidCron`` when it is not one) and
:meth:`Cron.next_after` gives the first tick strictly after a time. Each field takes ``*``, a
number, a range ``a-b``, a step ``*/n`` or ``a-b/n``, and comma lists of those; months and days
also take English three-letter names (``JAN``, ``MON``), Sunday is 0 or 7. As in classic cron, when
both day fields are restricted (do not start with ``*``) a day matching either one is a match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
#: (name, lowest, highest, names) of each field, in order.
FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)
#: How far :meth:`Cron.next_after` looks ahead (a 31 February never comes).
HORIZON_DAYS = 366 * 5


class CronError(ValueError):
    """Not a cron expression the sandbox understands; the message says which part is wrong."""


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return by_weekday
        if self.any_weekday:
            return by_date
        return by_date or by_weekday

    def next_after(self, ts: float) -> float | None:
        """The first tick strictly after ``ts`` (epoch seconds), None when none comes within five years."""
        start = datetime.fromtimestamp(ts, tz=UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(HORIZON_DAYS):
            if self._day_matches(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        tick = day.replace(hour=hour, minute=minute)
                        if tick >= start:
                            return tick.timestamp()
            day += timedelta(days=1)
        return None


def _value(text: str, low: int, high: int, names: tuple[str, ...], field: str) -> int:
    upper = text.upper()
    if names and upper in names:
        return names.index(upper) + (1 if names is MONTHS else 0)
    if not text.isdigit():
        raise CronError(f"{field}: {text!r} is not a number" + (" or a name" if names else ""))
    number = int(text)
    if not low <= number <= high:
        raise CronError(f"{field}: {number} is outside {low}-{high}")
    return number


def _field(text: str, low: int, high: int, names: tuple[str, ...], field: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"{field}: empty item in {text!r}")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{field}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _value(a, low, high, names, field), _value(b, low, high, names, field)
            if first > last:
                raise CronError(f"{field}: range {base!r} goes backwards")
        else:
            first = _value(base, low, high, names, field)
            last = high if step_text else first
        out.update(range(first, last + 1, step))
    return out


@lru_cache(maxsize=256)
def parse(text: str) -> Cron:
    """The cron of ``text``; :class:`CronError` names the field that is wrong."""
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"a cron expression has 5 fields (minute hour day month weekday), not {len(parts)}")
    sets = [_field(p, low, high, names, name) for p, (name, low, high, names) in zip(parts, FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = sets
    weekdays = {d % 7 for d in weekdays}
    cron = Cron(
        text=" ".join(parts),
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(weekdays),
        any_day=parts[2].startswith("*"),
        any_weekday=parts[4].startswith("*"),
    )
    if cron.next_after(0.0) is None:
        raise CronError("the expression names no time that ever comes (such as 30 February)")
    return cron
