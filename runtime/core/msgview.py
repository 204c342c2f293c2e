"""The read-only view of a parsed SIP message that `Ctx` needs.

`runtime.sip` owns the message model; this Protocol names the handful of members the
script context reads, so `core` states its dependency in one place.
"""

from __future__ import annotations

from typing import Protocol


class MessageView(Protocol):
    @property
    def is_request(self) -> bool: ...

    @property
    def method(self) -> str:
        """The request method; for a reply, the method of its CSeq."""
        ...

    @property
    def ruri(self) -> str:
        """The Request-URI as received ("" for a reply)."""
        ...

    @property
    def status(self) -> int:
        """The status code of a reply (0 for a request)."""
        ...

    @property
    def reason(self) -> str: ...

    @property
    def raw(self) -> bytes:
        """The whole message as received."""
        ...

    @property
    def body(self) -> bytes: ...

    def header(self, name: str, index: int = 0) -> str | None:
        """Body of the index-th header of that name (negative from the end), compact names too."""
        ...

    def header_values(self, name: str) -> list[str]:
        """Bodies of every header of that name, in order."""
        ...
