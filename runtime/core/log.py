"""Per-message logging context: the Call-ID of the message being processed.

The pipeline sets `current_message` once per message; `CallIdFilter` puts that message's
Call-ID on every log record as `call_id`, so `%(call_id)s` works in any format without
threading the Call-ID through calls. The Call-ID is read only when a record is emitted:
most messages log nothing, and decoding the header for each would cost more than the
logging it serves.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Protocol


class _HasCallId(Protocol):
    @property
    def call_id(self) -> str | None: ...


current_message: contextvars.ContextVar[_HasCallId | None] = contextvars.ContextVar(
    "sipc_message", default=None
)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(call_id)s] %(message)s"


class CallIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = current_message.get()
        record.call_id = (msg.call_id if msg is not None else None) or "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr with the Call-ID of the message in context on every line."""
    handler = logging.StreamHandler()
    handler.addFilter(CallIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
