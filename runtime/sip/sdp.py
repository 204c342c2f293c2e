"""SDP bodies (RFC 4566) as the codec and stream operations of a proxy see them.

A proxy edits an offer or an answer it relays: drop a codec, move one to the front,
remove the video stream, ask whether the audio is on hold. `parse_sdp` cuts a body into
its session lines and its media sections (each an `m=` line and the lines up to the next
one); every line keeps its own bytes and line end, so what no operation touched goes out
exactly as received, and `Sdp.to_bytes()` gives the edited body back.

A payload type is known by its `a=rtpmap:` line, or, without one, by the static
assignments of RFC 3551 (0 is PCMU/8000, 8 PCMA/8000, 18 G729/8000...). Deleting a
payload type drops it from the `m=` line along with the attribute lines about it
(`a=rtpmap`, `a=fmtp`, `a=rtcp-fb`...) and the payload types linked to it by
`a=fmtp:N apt=PT` (RTX); a stream left with no payload type gets port 0 (RFC 3264 §6:
a rejected stream), as OpenSIPS does. No I/O; the text is decoded as UTF-8 with
undecodable octets kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"

# RFC 3551 §6 (and the IANA RTP parameters registry): payload types with a fixed meaning
STATIC_PAYLOADS: dict[str, tuple[str, str]] = {
    "0": ("PCMU", "8000"),
    "3": ("GSM", "8000"),
    "4": ("G723", "8000"),
    "5": ("DVI4", "8000"),
    "6": ("DVI4", "16000"),
    "7": ("LPC", "8000"),
    "8": ("PCMA", "8000"),
    "9": ("G722", "8000"),
    "10": ("L16", "44100"),
    "11": ("L16", "44100"),
    "12": ("QCELP", "8000"),
    "13": ("CN", "8000"),
    "14": ("MPA", "90000"),
    "15": ("G728", "8000"),
    "16": ("DVI4", "11025"),
    "17": ("DVI4", "22050"),
    "18": ("G729", "8000"),
    "25": ("CelB", "8000"),
    "26": ("JPEG", "90000"),
    "28": ("nv", "90000"),
    "31": ("H261", "90000"),
    "32": ("MPV", "90000"),
    "33": ("MP2T", "90000"),
    "34": ("H263", "90000"),
    "t38": ("t38", ""),
}

# `a=name:value` attributes whose value starts with something other than a payload type
# (an id, a port, a tag): never taken as being about the payload type of that number
_NOT_PER_PAYLOAD = frozenset(
    {
        "rtcp", "ptime", "maxptime", "extmap", "crypto", "candidate", "remote-candidates",
        "ssrc", "ssrc-group", "mid", "msid", "msid-semantic", "group", "fingerprint",
        "setup", "connection", "ice-ufrag", "ice-pwd", "ice-options", "label", "framerate",
        "quality", "sctp-port", "sctpmap", "max-message-size", "rid", "simulcast",
        "content", "floorctrl", "confid", "userid", "floorid", "silenceSupp", "key-mgmt",
    }
)  # fmt: skip

Codec = tuple[str, str]
"""(encoding name, clock rate) of a payload type; the clock is "" when unknown."""


def _line_text(line: str) -> str:
    """A line without its line end."""
    return line.rstrip("\r\n")


def _line_end(line: str) -> str:
    return line[len(_line_text(line)) :]


def _attribute(text: str) -> tuple[str, str] | None:
    """`a=name:value` -> (name, value); `a=name` -> (name, "")."""
    if not text.startswith("a="):
        return None
    name, _, value = text[2:].partition(":")
    return name.strip(), value


@dataclass(slots=True)
class Media:
    """One media description: its `m=` line (`lines[0]`) and the lines under it."""

    lines: list[str]
    media: str
    port: str
    proto: str
    formats: list[str]

    @classmethod
    def from_lines(cls, lines: list[str]) -> Media | None:
        fields = _line_text(lines[0])[2:].split()
        if len(fields) < 3:
            return None
        return cls(lines, fields[0], fields[1], fields[2], fields[3:])

    def _write_m_line(self) -> None:
        text = " ".join(["m=" + self.media, self.port, self.proto, *self.formats])
        self.lines[0] = text + _line_end(self.lines[0])

    def attributes(self) -> list[tuple[str, str]]:
        return [attr for line in self.lines[1:] if (attr := _attribute(_line_text(line)))]

    def direction(self) -> str | None:
        """`sendrecv`, `sendonly`, `recvonly` or `inactive` when the stream says so."""
        return _direction(self.lines[1:])

    def connection_address(self) -> str | None:
        return _connection_address(self.lines[1:])

    def codec(self, payload: str) -> Codec | None:
        """What a payload type of this stream is: its rtpmap, else its static meaning."""
        for name, value in self.attributes():
            if name.lower() != "rtpmap":
                continue
            number, _, encoding = value.strip().partition(" ")
            if number == payload:
                parts = encoding.strip().split("/")
                return parts[0], parts[1] if len(parts) > 1 else ""
        return STATIC_PAYLOADS.get(payload.lower())

    def _payload_of(self, text: str) -> str | None:
        """The payload type an attribute line is about (`a=fmtp:101 0-15` -> "101")."""
        attr = _attribute(text)
        if attr is None or attr[0] in _NOT_PER_PAYLOAD or not attr[1]:
            return None
        return attr[1].split(None, 1)[0]

    def _linked_to(self, payload: str) -> list[str]:
        """Payload types whose fmtp says `apt=payload` (RFC 4588 retransmission)."""
        linked = []
        for name, value in self.attributes():
            if name.lower() != "fmtp":
                continue
            number, _, params = value.strip().partition(" ")
            for param in params.split(";"):
                key, _, target = param.strip().partition("=")
                if key.strip().lower() == "apt" and target.strip() == payload:
                    linked.append(number)
        return linked

    def delete(self, payloads: list[str]) -> None:
        """Drop payload types (and those linked to them) with their attribute lines."""
        doomed = set(payloads)
        for payload in payloads:
            doomed.update(self._linked_to(payload))
        self.formats = [fmt for fmt in self.formats if fmt not in doomed]
        self.lines[1:] = [
            line for line in self.lines[1:] if self._payload_of(_line_text(line)) not in doomed
        ]
        if not self.formats:
            self.port = "0"
        self._write_m_line()

    def move(self, payloads: list[str], *, to_front: bool) -> None:
        kept = [fmt for fmt in self.formats if fmt not in payloads]
        self.formats = [*payloads, *kept] if to_front else [*kept, *payloads]
        self._write_m_line()


def _direction(lines: list[str]) -> str | None:
    for line in lines:
        attr = _attribute(_line_text(line))
        if attr is not None and attr[0].lower() in ("sendrecv", "sendonly", "recvonly", "inactive"):
            return attr[0].lower()
    return None


def _connection_address(lines: list[str]) -> str | None:
    for line in lines:
        text = _line_text(line)
        if text.startswith("c="):
            fields = text[2:].split()
            return fields[2].split("/")[0] if len(fields) >= 3 else None
    return None


@dataclass(slots=True)
class Sdp:
    """A session description: the session-level lines, then each media section."""

    session: list[str]
    media: list[Media] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        lines = [*self.session]
        for section in self.media:
            lines.extend(section.lines)
        return "".join(lines).encode(_ENCODING, _ERRORS)

    # ----------------------------------------------------------------- codecs

    def codecs_where(self, wanted: Callable[[Codec], bool]) -> list[tuple[Media, list[str]]]:
        """Per stream, the payload types of its m= line whose codec is wanted,
        in m= line order."""
        found = []
        for section in self.media:
            matches = []
            for payload in section.formats:
                codec = section.codec(payload)
                if codec is not None and wanted(codec):
                    matches.append(payload)
            if matches:
                found.append((section, matches))
        return found

    def delete_codecs(self, wanted: Callable[[Codec], bool]) -> bool:
        found = self.codecs_where(wanted)
        for section, payloads in found:
            section.delete(payloads)
        return bool(found)

    def move_codecs(self, wanted: Callable[[Codec], bool], *, to_front: bool) -> bool:
        found = self.codecs_where(wanted)
        for section, payloads in found:
            section.move(payloads, to_front=to_front)
        return bool(found)

    # ----------------------------------------------------------------- streams

    def find_stream(self, wanted: Callable[[Media], bool]) -> Media | None:
        return next((section for section in self.media if wanted(section)), None)

    def delete_stream(self, section: Media) -> None:
        self.media.remove(section)

    def audio_hold(self) -> int:
        """1 when an audio stream is held RFC 2543 style (connection address 0.0.0.0),
        2 RFC 3264 style (sendonly or inactive), 0 when none is; the first held audio
        stream decides. A direction given at session level applies to the streams
        that give none (RFC 4566 §6)."""
        session_direction = _direction(self.session)
        session_address = _connection_address(self.session)
        for section in self.media:
            if section.media.lower() != "audio":
                continue
            direction = section.direction() or session_direction
            if direction in ("sendonly", "inactive"):
                return 2
            if (section.connection_address() or session_address) == "0.0.0.0":
                return 1
        return 0


def parse_sdp(body: bytes) -> Sdp | None:
    """The SDP in `body`, or None when it is not one (no `v=` line first, a bad `m=`)."""
    text = body.decode(_ENCODING, _ERRORS)
    lines = text.splitlines(keepends=True)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or not lines[0].startswith("v="):
        return None
    sdp = Sdp([])
    current: list[str] = sdp.session
    for line in lines:
        if line.startswith("m="):
            current = [line]
            section = Media.from_lines(current)
            if section is None:
                return None
            sdp.media.append(section)
        else:
            current.append(line)
    return sdp
