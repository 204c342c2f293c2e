"""Turning script values into text, as format strings (`"user $rU at $Ts"`) do."""

from __future__ import annotations

from runtime.core.script import Value

NULL_TEXT = "<null>"


def fmt(value: Value) -> str:
    """A value as it prints inside a format string: NULL prints `<null>`."""
    if value is None:
        return NULL_TEXT
    if isinstance(value, str):
        return value
    return str(value)
