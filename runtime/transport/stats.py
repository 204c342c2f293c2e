"""Counters the transport and the pipeline keep; cheap to bump, printed at shutdown."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class TransportStats:
    """Plain integer counters: a bump is one attribute add on the hot path."""

    received: int = 0
    requests: int = 0
    replies: int = 0
    sent: int = 0
    malformed: int = 0
    malformed_answered: int = 0
    send_errors: int = 0
    callback_errors: int = 0
    script_errors: int = 0
    dropped: int = 0
    tcp_accepted: int = 0
    tcp_connected: int = 0
    tcp_closed_idle: int = 0
    write_pauses: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.as_dict().items())
