"""Byte-level edits on the message of a script run.

The parsed message has verbs for the common edits (add, set, remove a header; new
body). What it has no verb for (insert header text before a given header, a regex over
the message, one entry out of a Route list) is done on the bytes as they would be sent
(`to_bytes()`, earlier edits included), and the result becomes the run's message
through `Ctx.set_message_bytes`, which parses it again.
"""

from __future__ import annotations

from runtime.api import Ctx
from runtime.sip import SipParseError

TEXT = "utf-8"
ERRORS = "surrogateescape"


def current(ctx: Ctx) -> bytes:
    """The message as it would be sent now."""
    return ctx.msg.to_bytes()


def commit(ctx: Ctx, data: bytes) -> bool:
    """Make `data` the message of this run; False (message unchanged) if it no longer parses."""
    if data == current(ctx):
        return True
    try:
        ctx.set_message_bytes(data)
    except SipParseError:
        return False
    return True


def decode(data: bytes) -> str:
    return data.decode(TEXT, ERRORS)


def encode(text: str) -> bytes:
    return text.encode(TEXT, ERRORS)
