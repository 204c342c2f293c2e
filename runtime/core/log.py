"""Per-message logging context: the Call-ID of the message being processed.

The pipeline sets `current_call_id` once per message; `CallIdFilter` copies it onto every
log record as `call_id`, so `%(call_id)s` works in any format without threading the
Call-ID through calls.
"""

from __future__ import annotations

import contextvars
import logging

current_call_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "sipc_call_id", default="-"
)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(call_id)s] %(message)s"


class CallIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.call_id = current_call_id.get()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr with the Call-ID of the message in context on every line."""
    handler = logging.StreamHandler()
    handler.addFilter(CallIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
