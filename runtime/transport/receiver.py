"""The one call a transport makes upwards."""

from __future__ import annotations

from typing import Protocol

from runtime.transport.source import Source


class Receiver(Protocol):
    def receive(self, data: bytes, source: Source) -> None:
        """Handle one whole SIP message (a datagram, or one framed off a stream)."""
        ...
