"""Time recurrences for `check_time_rec()`: RFC 2445 fields, as OpenSIPS's cfgutils reads them.

A recurrence is `"[timezone|]dtstart|dtend|duration|freq|until|interval|byday|bymday|byyday|
byweekno|bymonth"`; empty trailing fields may be left out, and nothing after `freq` is
read unless `freq` is set (a parse error otherwise). Date-times are `YYYYMMDDTHHMMSS`
(year 1970 or later), wall-clock in the timezone given (an IANA name, which must start
with a capital letter, e.g. `Europe/Bucharest`), else in the system's. A duration is
`P[nW][nD][T[nH][nM][nS]]`. With neither dtend nor duration the window lasts until the
end of the day, week, month or year of dtstart (the smallest unit the rule repeats in),
or forever for a rule that does not repeat.

A time matches when it is not before dtstart and: for a rule without `freq`, before
dtend; otherwise it is in a repetition the `interval` counts (days, Monday-based weeks,
months or years since dtstart), within the window (dtstart's time of day, day of week,
of month or of year, for `duration`), in every by-list given, and not after `until`.
By-lists: `byday` is `MO,TU,...` with an optional signed count (`2MO`, `-1FR`: the nth
such weekday of the month for MONTHLY, of the year for YEARLY; ignored otherwise),
`bymday`/`byyday` count from the end when negative, `byweekno` (YEARLY only) uses ISO
8601 week numbers, `bymonth` is 1-12.

Recurrences combine with `&` (and), `/` (or), `!` (not) and parentheses; `&` and `/` may
not be mixed at one level. A `/` is part of a recurrence (a timezone name) until the
recurrence has shown its first `|`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NO_FREQ, DAILY, WEEKLY, MONTHLY, YEARLY = 0, 1, 2, 3, 4
_FREQS = {"daily": DAILY, "weekly": WEEKLY, "monthly": MONTHLY, "yearly": YEARLY}
_WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
DAY = 86400
WEEK = 7 * DAY
_MONTH_MAX = 31 * DAY
_YEAR_MAX = 366 * DAY
_FOREVER = 4294967295  # a rule without end: OpenSIPS's "+136 years"


class TimeRecError(ValueError):
    """A recurrence string that cannot be parsed."""


@dataclass(slots=True)
class TimeRec:
    zone: tzinfo | None
    start: datetime  # dtstart as wall-clock time in `zone`
    dtstart: float
    dtend: float = 0.0
    duration: float = 0.0
    freq: int = NO_FREQ
    until: float | None = None
    interval: int = 1
    byday: list[tuple[int, int]] = field(default_factory=list)  # (count, weekday)
    bymday: list[int] = field(default_factory=list)
    byyday: list[int] = field(default_factory=list)
    byweekno: list[int] = field(default_factory=list)
    bymonth: list[int] = field(default_factory=list)

    @property
    def has_by(self) -> bool:
        return bool(self.byday or self.bymday or self.byyday or self.byweekno or self.bymonth)

    def unit(self) -> int:
        """The smallest period the rule repeats in."""
        if self.freq == DAILY or self.byday or self.bymday or self.byyday:
            return DAILY
        if self.freq == WEEKLY or self.byweekno:
            return WEEKLY
        if self.freq == MONTHLY or self.bymonth:
            return MONTHLY
        return self.freq


# ---------------------------------------------------------------------- parsing


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeRecError(f"unknown timezone {name!r}") from exc


def _datetime(text: str, zone: tzinfo | None) -> datetime:
    if len(text) != 15 or text[8] not in "Tt" or not (text[:8] + text[9:]).isdigit():
        raise TimeRecError(f"bad date-time {text!r} (YYYYMMDDTHHMMSS)")
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:8])
    if year < 1970 or month == 0 or day == 0:
        raise TimeRecError(f"bad date-time {text!r}")
    try:
        naive = datetime(year, month, day, int(text[9:11]), int(text[11:13]), int(text[13:15]))
    except ValueError as exc:
        raise TimeRecError(f"bad date-time {text!r}") from exc
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


def parse_duration(text: str) -> int:
    """`P1W`, `p30d`, `PT1H30M`, `P1DT12H` -> seconds."""
    if len(text) < 2 or text[0] not in "Pp":
        raise TimeRecError(f"bad duration {text!r}")
    total = number = 0
    in_time = False
    units = {"w": WEEK, "d": DAY, "h": 3600, "m": 60, "s": 1}
    for char in text[1:].lower():
        if char.isdigit():
            number = number * 10 + int(char)
        elif char == "t" and not in_time:
            in_time = True
        elif char in units and (char in "hms") == in_time:
            total += number * units[char]
            number = 0
        else:
            raise TimeRecError(f"bad duration {text!r}")
    return total


def _ints(text: str, low: int, high: int) -> list[int]:
    values = []
    for item in text.split(","):
        item = item.strip()
        try:
            value = int(item)
        except ValueError as exc:
            raise TimeRecError(f"bad number {item!r}") from exc
        if value == 0 or not low <= abs(value) <= high:
            raise TimeRecError(f"{value} is out of range")
        values.append(value)
    return values


def _days(text: str) -> list[tuple[int, int]]:
    days = []
    for item in text.split(","):
        item = item.strip().upper()
        name, count = item[-2:], item[:-2]
        if name not in _WEEKDAYS or (count and not count.lstrip("+-").isdigit()):
            raise TimeRecError(f"bad weekday {item!r}")
        days.append((int(count) if count else 0, _WEEKDAYS[name]))
    return days


def parse_rec(text: str) -> TimeRec:
    """One recurrence (no operators)."""
    fields = [f.strip() for f in text.strip().split("|")]
    zone: tzinfo | None = None
    if fields and fields[0][:1].isupper() and fields[0][:1].isalpha():
        zone = _zone(fields.pop(0))
    fields += [""] * (11 - len(fields))
    if len(fields) > 11:
        raise TimeRecError("too many fields")
    start_text, end_text, duration_text, freq_text, until_text, interval_text = fields[:6]
    start = _datetime(start_text, zone) if start_text else datetime.fromtimestamp(0, zone)
    if zone is None and not start_text:
        start = start.astimezone()
    rec = TimeRec(zone, start, start.timestamp())
    rec.freq = _FREQS.get(freq_text.lower(), NO_FREQ)
    if until_text:
        rec.until = _datetime(until_text, zone).timestamp()
    if interval_text:
        rec.interval = _ints(interval_text, 1, 1 << 30)[0]
    day_text, mday_text, yday_text, weekno_text, month_text = fields[6:11]
    rec.byday = _days(day_text) if day_text else []
    rec.bymday = _ints(mday_text, 1, 31) if mday_text else []
    rec.byyday = _ints(yday_text, 1, 366) if yday_text else []
    rec.byweekno = _ints(weekno_text, 1, 53) if weekno_text else []
    rec.bymonth = _ints(month_text, 1, 12) if month_text else []
    if not rec.freq and (until_text or interval_text or rec.has_by):
        raise TimeRecError("until, interval and the by-lists need freq")
    if duration_text:
        rec.duration = parse_duration(duration_text)
        rec.dtend = rec.dtstart + rec.duration
    else:
        rec.dtend = _default_end(rec) if not end_text else _datetime(end_text, zone).timestamp()
        rec.duration = rec.dtend - rec.dtstart
    return rec


def _default_end(rec: TimeRec) -> float:
    start = rec.start
    midnight = start.replace(hour=0, minute=0, second=0)
    unit = rec.unit()
    if unit == DAILY:
        end = midnight + timedelta(days=1)
    elif unit == WEEKLY:
        end = midnight + timedelta(days=7 - start.weekday())
    elif unit == MONTHLY:
        end = midnight + timedelta(
            days=calendar.monthrange(start.year, start.month)[1] - start.day + 1
        )
    elif unit == YEARLY:
        end = midnight.replace(year=start.year + 1, month=1, day=1)
    else:
        return float(_FOREVER)
    return end.timestamp()


# ---------------------------------------------------------------------- matching


def _seconds_of_day(moment: datetime) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _position(moment: datetime, unit: int) -> tuple[int, int]:
    """Where `moment` is in its day/week/month/year, and how long that period is (s)."""
    tod = _seconds_of_day(moment)
    if unit == DAILY:
        return tod, DAY
    if unit == WEEKLY:
        return moment.weekday() * DAY + tod, WEEK
    if unit == MONTHLY:
        days = calendar.monthrange(moment.year, moment.month)[1]
        return (moment.day - 1) * DAY + tod, days * DAY
    yday = moment.timetuple().tm_yday
    return (yday - 1) * DAY + tod, (366 if calendar.isleap(moment.year) else 365) * DAY


def _in_interval(rec: TimeRec, moment: datetime) -> bool:
    if rec.interval <= 1:
        return True
    start = rec.start
    if rec.freq == DAILY or rec.freq == WEEKLY:
        days = (moment.date() - start.date()).days
        if rec.freq == DAILY:
            return days % rec.interval == 0
        monday = moment.date() - timedelta(days=moment.weekday())
        first_monday = start.date() - timedelta(days=start.weekday())
        return ((monday - first_monday).days // 7) % rec.interval == 0
    if rec.freq == MONTHLY:
        months = (moment.year - start.year) * 12 + moment.month - start.month
        return months % rec.interval == 0
    return (moment.year - start.year) % rec.interval == 0


def _in_window(rec: TimeRec, moment: datetime) -> bool:
    unit = rec.unit()
    longest = {DAILY: DAY, WEEKLY: WEEK, MONTHLY: _MONTH_MAX, YEARLY: _YEAR_MAX}.get(unit)
    if longest is None:
        return False
    if rec.duration >= longest:
        return True
    here, period = _position(moment, unit)
    begin, _ = _position(rec.start, unit)
    return (here - begin) % period < rec.duration


def _nth(index: int, count: int, total: int) -> bool:
    """Whether the 1-based `index` of `total` is the `count`th (negative: from the end)."""
    return index == count if count > 0 else index == total + count + 1


def _by_lists(rec: TimeRec, moment: datetime) -> bool:
    if rec.bymonth and moment.month not in [m if m > 0 else 13 + m for m in rec.bymonth]:
        return False
    year_days = 366 if calendar.isleap(moment.year) else 365
    month_days = calendar.monthrange(moment.year, moment.month)[1]
    if rec.freq == YEARLY and rec.byweekno:
        week = moment.isocalendar()[1]
        weeks = datetime(moment.year, 12, 28).isocalendar()[1]
        if not any(_nth(week, n, weeks) for n in rec.byweekno):
            return False
    yday = moment.timetuple().tm_yday
    if rec.byyday and not any(_nth(yday, n, year_days) for n in rec.byyday):
        return False
    if rec.bymday and not any(_nth(moment.day, n, month_days) for n in rec.bymday):
        return False
    if rec.byday:
        weekday = moment.weekday()
        for count, day in rec.byday:
            if day != weekday:
                continue
            if count == 0 or rec.freq not in (MONTHLY, YEARLY):
                return True
            if rec.freq == MONTHLY:
                index, total = (
                    (moment.day - 1) // 7 + 1,
                    (moment.day - 1) // 7 + 1 + (month_days - moment.day) // 7,
                )
            else:
                index, total = (yday - 1) // 7 + 1, (yday - 1) // 7 + 1 + (year_days - yday) // 7
            if _nth(index, count, total):
                return True
        return False
    return True


def matches(rec: TimeRec, when: float) -> bool:
    """Whether the Unix time `when` falls in the recurrence."""
    if when < rec.dtstart:
        return False
    if not rec.freq:
        return when < rec.dtend
    moment = (
        datetime.fromtimestamp(when, rec.zone)
        if rec.zone
        else datetime.fromtimestamp(when).astimezone()
    )
    return (
        _in_interval(rec, moment)
        and _in_window(rec, moment)
        and _by_lists(rec, moment)
        and (rec.until is None or when <= rec.until)
    )


# ---------------------------------------------------------------------- expressions


@dataclass(slots=True)
class Expr:
    """Recurrences joined by one operator ("&" or "/"), or one recurrence (`leaf`)."""

    op: str = ""
    operands: list[Expr] = field(default_factory=list)
    leaf: TimeRec | None = None
    inverted: bool = False

    def check(self, when: float) -> bool:
        if self.leaf is not None:
            result = matches(self.leaf, when)
        elif self.op == "/":
            result = any(e.check(when) for e in self.operands)
        else:
            result = all(e.check(when) for e in self.operands)
        return result != self.inverted


def _closing(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise TimeRecError("unbalanced parentheses")


def _set_op(expr: Expr, op: str) -> None:
    if expr.op and expr.op != op:
        raise TimeRecError("`&` and `/` cannot be mixed without parentheses")
    expr.op = op


def parse_expr(text: str) -> Expr:
    """A recurrence expression (see the module doc)."""
    expr = Expr()
    need_operand = True
    invert = False
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if not need_operand:
            if char not in "&/":
                raise TimeRecError(f"expected `&` or `/` at {char!r}")
            _set_op(expr, char)
            need_operand = True
            index += 1
            continue
        if char in ")&/":
            raise TimeRecError(f"unexpected {char!r}")
        if char == "!":
            invert = not invert
            index += 1
            continue
        if char == "(":
            end = _closing(text, index)
            inner = parse_expr(text[index + 1 : end])
            inner.inverted = inner.inverted != invert
            expr.operands.append(inner)
        else:
            end, seen_bar = index, False
            while end < len(text):
                c = text[end]
                if c in "!()":
                    raise TimeRecError(f"unexpected {c!r} in a recurrence")
                if c.isspace() or c == "&" or (c == "/" and seen_bar):
                    break
                seen_bar = seen_bar or c == "|"
                end += 1
            expr.operands.append(Expr(leaf=parse_rec(text[index:end]), inverted=invert))
            end -= 1
        invert = False
        need_operand = False
        index = end + 1
    if need_operand and (expr.op or not expr.operands):
        raise TimeRecError("missing recurrence")
    if len(expr.operands) == 1 and not expr.op:
        single = expr.operands[0]
        single.inverted = single.inverted != invert
        return single
    expr.inverted = invert
    return expr
