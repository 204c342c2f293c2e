"""The script's value semantics, as compiled routes call them (spec/language.md §6.3, §7).

Values are `int`, `str` or `None` (NULL). The rules are OpenSIPS's:

* truth: NULL, "" and 0 are false; everything else is true;
* comparisons: two integers compare as numbers; two strings compare ignoring case; an
  integer variable compared to a string compares its decimal form; a string compared to
  a number is a type mismatch, which is *false* (for `!=` too); NULL equals only NULL;
* `+` on a string concatenates; arithmetic and bit operators want integers and wrap to a C
  `int` (32 bits); a bad operand or a division by zero gives NULL;
* regex matches (`=~`, `!~`) are POSIX extended, case-insensitive, and search anywhere.

Compiled code calls these small functions instead of Python operators so that a script
means the same thing here as in OpenSIPS. They are module-level functions (one global
lookup and one call each) on purpose: they sit on the per-message path.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from runtime.core.script import ScriptExit, Value
from runtime.core.transformations import apply_transforms
from runtime.core.transforms.regex import posix_to_python_pattern

log = logging.getLogger("sipc.script")

NULL_TEXT = "<null>"
_INT_MIN, _INT_SPAN = -(2**31), 2**32


def _wrap(n: int) -> int:
    """C `int` arithmetic: wrap to 32 bits, signed."""
    return (n - _INT_MIN) % _INT_SPAN + _INT_MIN


# ---------------------------------------------------------------------------- conversions


def truthy(v: Value) -> bool:
    return v is not None and v != "" and v != 0


def text(v: Value) -> str:
    """A value as a format string prints it: NULL is `<null>`."""
    if v is None:
        return NULL_TEXT
    return v if isinstance(v, str) else str(v)


def to_str(v: Value) -> str:
    """A value passed to a string parameter: NULL is the empty string."""
    if v is None:
        return ""
    return v if isinstance(v, str) else str(v)


def opt_str(v: Value) -> str | None:
    """A value written to a string attribute (`$ru`, `$du`): NULL stays NULL."""
    if v is None or isinstance(v, str):
        return v
    return str(v)


def transform(v: Value, chain: Sequence[tuple[str, Sequence[Value]]]) -> Value:
    """`$(x{tr1}{tr2})`: apply the transformations left to right."""
    return apply_transforms(chain, v)


def to_int(v: Value) -> int:
    """A value passed to an integer parameter; a string must be a decimal number."""
    if isinstance(v, int):
        return v
    if v is None:
        return 0
    try:
        return int(v.strip())
    except ValueError:
        raise ScriptValueError(f"expected an integer value, got the string {v!r}") from None


def bool_int(b: bool) -> int:
    """A comparison used as a value: 1 or 0."""
    return 1 if b else 0


class ScriptValueError(ValueError):
    """A value of the wrong type reached a place that needs another (logged with the line)."""


# ---------------------------------------------------------------------------- comparisons


def _pair(a: Value, b: Value) -> tuple[int, int] | tuple[str, str] | None:
    """Both as integers, or both as lower-case strings, or None for a type mismatch."""
    if isinstance(a, int) and isinstance(b, int):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return a.lower(), b.lower()
    if isinstance(a, int) and isinstance(b, str):
        return str(a), b.lower()  # an integer variable also has its decimal string form
    return None


def eq(a: Value, b: Value) -> bool:
    if a is None or b is None:
        return a is None and b is None
    p = _pair(a, b)
    return p is not None and p[0] == p[1]


def ne(a: Value, b: Value) -> bool:
    if a is None or b is None:
        return not (a is None and b is None)
    p = _pair(a, b)
    return p is not None and p[0] != p[1]


def lt(a: Value, b: Value) -> bool:
    p = _pair(a, b) if a is not None and b is not None else None
    return p is not None and p[0] < p[1]  # type: ignore[operator]


def gt(a: Value, b: Value) -> bool:
    p = _pair(a, b) if a is not None and b is not None else None
    return p is not None and p[0] > p[1]  # type: ignore[operator]


def le(a: Value, b: Value) -> bool:
    p = _pair(a, b) if a is not None and b is not None else None
    return p is not None and p[0] <= p[1]  # type: ignore[operator]


def ge(a: Value, b: Value) -> bool:
    p = _pair(a, b) if a is not None and b is not None else None
    return p is not None and p[0] >= p[1]  # type: ignore[operator]


@lru_cache(maxsize=1024)
def regex(pattern: str) -> re.Pattern[str]:
    """A script regex: POSIX extended, case-insensitive, newline-sensitive."""
    return re.compile(posix_to_python_pattern(pattern), re.IGNORECASE | re.MULTILINE)


def match(v: Value, pattern: re.Pattern[str] | Value) -> bool:
    """`v =~ pattern`; a pattern held in a variable is compiled (and cached) here."""
    if v is None:
        return False
    if not isinstance(pattern, re.Pattern):
        if pattern is None:
            return False
        pattern = regex(to_str(pattern))
    return pattern.search(v if isinstance(v, str) else str(v)) is not None


IpNet = ipaddress.IPv4Network | ipaddress.IPv6Network


def net(text_: str) -> IpNet:
    """An IP literal or network of a script (`10.0.0.0/8`, `[::1]`, `1.2.3.4/255.0.0.0`)."""
    return ipaddress.ip_network(text_.strip("[]").replace("]/", "/"), strict=False)


def in_net(v: Value, network: IpNet) -> bool:
    """`$si == 10.0.0.0/8`: the value parsed as an IP address is inside the network."""
    if not isinstance(v, str):
        return False
    try:
        return ipaddress.ip_address(v.strip("[]")) in network
    except ValueError:
        return False


# ---------------------------------------------------------------------------- arithmetic


def add(a: Value, b: Value) -> Value:
    """`+`: integer addition, or string concatenation when the left side is a string."""
    if isinstance(a, str):
        return a + to_str(b)
    if isinstance(a, int):
        if b is None:
            return a
        if isinstance(b, int):
            return _wrap(a + b)
    return None


def _ints(a: Value, b: Value) -> tuple[int, int] | None:
    if isinstance(a, int) and isinstance(b, int | None):
        return a, b or 0
    return None


def sub(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    return None if p is None else _wrap(p[0] - p[1])


def mul(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    return None if p is None else _wrap(p[0] * p[1])


def div(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    if p is None or p[1] == 0:
        return None
    q = abs(p[0]) // abs(p[1])  # C division truncates toward zero
    return _wrap(q if (p[0] >= 0) == (p[1] >= 0) else -q)


def mod(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    if p is None or p[1] == 0:
        return None
    r = abs(p[0]) % abs(p[1])
    return _wrap(r if p[0] >= 0 else -r)


def band(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    return None if p is None else _wrap(p[0] & p[1])


def bor(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    return None if p is None else _wrap(p[0] | p[1])


def bxor(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    return None if p is None else _wrap(p[0] ^ p[1])


def shl(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    return None if p is None or p[1] < 0 else _wrap(p[0] << min(p[1], 64))


def shr(a: Value, b: Value) -> Value:
    p = _ints(a, b)
    return None if p is None or p[1] < 0 else _wrap(p[0] >> min(p[1], 64))


def bnot(a: Value) -> Value:
    return _wrap(~a) if isinstance(a, int) else None


# ---------------------------------------------------------------------------- control


def return_code(v: Value) -> int:
    """`return($v)`: the integer value; 1 for a string; -1 for NULL."""
    if isinstance(v, int):
        return v
    return -1 if v is None else 1


def exit_if_zero(rc: int) -> int:
    """A builtin that returned 0 ends the whole run, even inside a condition."""
    if rc == 0:
        raise ScriptExit
    return rc


def loop_guard(limit: int = 10000) -> Iterator[int]:
    """The passes a `while` may make: OpenSIPS's `max_while_loops`, then an error is logged."""
    yield from range(limit)
    log.error("while loop stopped after %d passes (max_while_loops)", limit)


def switch_start(subject: Value, labels: Sequence[int | str | None], default: int) -> int:
    """Position of the first `case` that matches `subject`, else `default`.

    `labels` has one entry per item of the switch, None for `default:`. A string label
    matches a subject with a string value equal to it ignoring case (an integer subject
    offers its decimal form); a number label matches an integer subject.
    """
    for i, label in enumerate(labels):
        if label is None:
            continue
        if isinstance(label, int):
            if isinstance(subject, int) and subject == label:
                return i
        elif subject is not None:
            s = subject if isinstance(subject, str) else str(subject)
            if len(s) == len(label) and s.lower() == label.lower():
                return i
    return default
