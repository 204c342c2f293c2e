"""Script values as transformations see them, and the conversions every family shares.

A script value is ``int``, ``str`` or ``None`` (NULL). Binary results (``{s.decode.hexa}``,
``{s.b64decode}``, ``{s.xor}``, ``{ip.pton}``) are carried as ``str`` whose code points map
back to the same bytes: bytes are decoded as UTF-8 with ``surrogateescape``, so text stays
text and arbitrary bytes survive a round trip through a later transformation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeAlias

Value: TypeAlias = int | str | None
Args: TypeAlias = Sequence[Value]
# Expands a format string ("$fU@$fd") against the current message, for {s.eval}.
FormatExpander: TypeAlias = Callable[[str], str | None]

_SIGNED_INT = re.compile(r"\s*[+-]?\d+\s*")


def as_text(value: int | str) -> str:
    """The string form of a value (an int's decimal digits)."""
    return value if isinstance(value, str) else str(value)


def to_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # A lone surrogate that no byte decoding produced: encode it rather than fail.
        return text.encode("utf-8", "surrogatepass")


def from_bytes(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def int_arg(args: Args, position: int) -> int | None:
    """An integer argument; text holding a signed decimal number counts too."""
    if position >= len(args):
        return None
    arg = args[position]
    if isinstance(arg, int):
        return arg
    if arg is not None and _SIGNED_INT.fullmatch(arg):
        return int(arg)
    return None


def text_arg(args: Args, position: int) -> str | None:
    """A text argument; an int argument is used in its decimal form."""
    if position >= len(args):
        return None
    arg = args[position]
    return None if arg is None else as_text(arg)


def leading_int(text: str) -> int:
    """OpenSIPS's script-level string-to-int: an optional sign and the digits that follow."""
    match = re.match(r"[+-]?\d+", text)
    return int(match.group()) if match else 0
