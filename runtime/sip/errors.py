"""The one exception the SIP layer raises for bad input."""

from __future__ import annotations


class SipParseError(ValueError):
    """A message, header or URI that does not follow RFC 3261.

    `reason` is a short lowercase sentence for logs and for the 400 reason phrase;
    `offset` is the byte offset of the fault in the message (or in the text handed to a
    standalone parser such as `parse_uri`). Inside folded or non-ASCII header values the
    offset points at the start of the header value rather than the exact character.
    """

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} (at byte {offset})")
        self.reason = reason
        self.offset = offset

    def shifted(self, by: int) -> SipParseError:
        """The same error with its offset moved by `by` (relative -> absolute)."""
        return SipParseError(self.reason, self.offset + by)
