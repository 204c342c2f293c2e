"""Module `sipmsgops`, `sipmsg_validate()`: OpenSIPS's RFC 3261 checks and return codes.

The checks run in OpenSIPS's order, so a message with several faults gets the code
OpenSIPS would return. The flags (either case, unknown letters ignored):

| flag | adds                                                                       |
|------|----------------------------------------------------------------------------|
| `s`  | an `application/sdp` body must parse (-6)                                  |
| `h`  | every header must parse: sipc's own validation (`runtime.sip.validate`) (-2) |
| `m`  | no Max-Forwards check                                                      |
| `r`  | R-URI parses, its host and user are well formed (-11, -12, -27)            |
| `f`  | the same for the From URI (-24, -25, -28)                                  |
| `t`  | the same for the To URI (-22, -23, -29)                                    |
| `c`  | Contact present and well formed where RFC 3261 asks for one (-14, -26, -30) |

On failure the reason text goes to the optional result variable. Differences: sipc's
parser reads a message whole before any route runs, so a message whose headers do not
parse at all never reaches the script; a host is checked for SIP and SIPS URIs only.
"""

from __future__ import annotations

import enum
import itertools

from runtime.api import Ctx, RouteKind
from runtime.sip import Request, SipParseError
from runtime.sip.message import Message
from runtime.sip.sdp import parse_sdp
from runtime.sip.uri import URI, OpaqueURI, SipURI, TelURI, parse_uri
from stdlib._registry import Out, export

R = RouteKind


class Fault(enum.IntEnum):
    """OpenSIPS's `sip_validation_failures`: the code `sipmsg_validate` returns."""

    NO_MSG = -1
    HDR_PARSE_ERROR = -2
    NO_CALLID = -3
    NO_CONTENT_LENGTH = -4
    INVALID_CONTENT_LENGTH = -5
    PARSE_SDP = -6
    NO_CSEQ = -7
    NO_FROM = -8
    NO_TO = -9
    NO_VIA = -10
    RURI_PARSE_ERROR = -11
    BAD_HOSTNAME = -12
    NO_MAX_FORWARDS = -13
    NO_CONTACT = -14
    PATH_NONREGISTER = -15
    NO_ALLOW_405 = -16
    NO_MIN_EXPIRES_423 = -17
    NO_PROXY_AUTH_407 = -18
    NO_UNSUPPORTED_420 = -19
    NO_WWW_AUTH_401 = -20
    NO_CONTENT_TYPE = -21
    TO_PARSE_ERROR = -22
    TO_DOMAIN_ERROR = -23
    FROM_PARSE_ERROR = -24
    FROM_DOMAIN_ERROR = -25
    CONTACT_PARSE_ERROR = -26
    BAD_USERNAME = -27
    FROM_USERNAME_ERROR = -28
    TO_USERNAME_ERROR = -29
    BAD_STAR_CONTACT = -30
    GENERIC_FAILURE = -255


class Invalid(Exception):
    def __init__(self, fault: Fault, reason: str) -> None:
        super().__init__(reason)
        self.fault = fault
        self.reason = reason


# methods whose requests (and 2xx/3xx replies) must carry a Contact
CONTACT_METHODS = frozenset(["INVITE", "REGISTER", "UPDATE", "SUBSCRIBE", "REFER"])
# a reply status -> the header it must carry (unless it answers a CANCEL)
REPLY_NEEDS = {
    405: ("Allow", Fault.NO_ALLOW_405),
    407: ("Proxy-Authenticate", Fault.NO_PROXY_AUTH_407),
    420: ("Unsupported", Fault.NO_UNSUPPORTED_420),
    401: ("WWW-Authenticate", Fault.NO_WWW_AUTH_401),
}
# schemes OpenSIPS's URI parser knows besides sip, sips and tel
OTHER_SCHEMES = frozenset(["tels", "urn"])
_USER_MARKS = frozenset("-_.!~*'()&=+$,;?/")
_HEX = frozenset("0123456789abcdefABCDEF")


def _alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def valid_hostname(host: str) -> bool:
    """OpenSIPS's `check_hostname`: alphanumerics, `-`, `.` (never two in a row) and `:`,
    starting with an alphanumeric or `[`, ending with an alphanumeric, `.` or `]`."""
    if not host or not (_alnum(host[0]) or host[0] == "["):
        return False
    for previous, char in itertools.pairwise(host[:-1]):
        if char == "." and previous == ".":
            return False
        if not (_alnum(char) or char in "-:."):
            return False
    return _alnum(host[-1]) or host[-1] in ".]"


def valid_username(user: str) -> bool:
    """RFC 3261's `user`: unreserved and user-unreserved characters and `%XX` escapes."""
    i = 0
    while i < len(user):
        char = user[i]
        if char == "%":
            if user[i + 1 : i + 2] not in _HEX or user[i + 2 : i + 3] not in _HEX:
                return False
            i += 3
            continue
        if not (_alnum(char) or char in _USER_MARKS):
            return False
        i += 1
    return True


def _check_uri(uri: URI, faults: tuple[Fault, Fault, Fault], label: str) -> None:
    """`faults`: (does not parse, bad host, bad user)."""
    if isinstance(uri, OpaqueURI) and uri.scheme.lower() not in OTHER_SCHEMES:
        raise Invalid(faults[0], f"failed to parse {label}: unsupported scheme {uri.scheme}")
    if isinstance(uri, SipURI) and not valid_hostname(uri.host):
        raise Invalid(faults[1], f"invalid domain for {label}")
    user = uri.number if isinstance(uri, TelURI) else uri.user
    if user and not valid_username(user):
        raise Invalid(faults[2], f"invalid username for {label}")


def _check_party(msg: Message, key: str, faults: tuple[Fault, Fault, Fault]) -> None:
    label = f"'{key}' header"
    try:
        party = msg.from_ if key == "From" else msg.to
    except SipParseError:
        party = None
    if party is None:
        raise Invalid(faults[0], f"failed to parse {label}")
    _check_uri(party.uri, faults, label)


def _check_contacts(msg: Message, method: str) -> None:
    if method not in CONTACT_METHODS:
        return
    if not msg.has_header("Contact"):
        raise Invalid(Fault.NO_CONTACT, "message doesn't have a 'Contact' header")
    try:
        star = msg.contact_star
        contacts = msg.contacts
    except SipParseError:
        raise Invalid(Fault.CONTACT_PARSE_ERROR, "failed to parse 'Contact' header") from None
    if not star:
        return
    if method != "REGISTER" or not isinstance(msg, Request):
        raise Invalid(Fault.BAD_STAR_CONTACT, "'Contact: *' is only valid in a REGISTER request")
    try:
        expires = msg.expires
    except SipParseError:
        expires = None
    if expires is None:
        raise Invalid(Fault.BAD_STAR_CONTACT, "failed to parse 'Expires' header")
    if expires != 0 or contacts:
        raise Invalid(Fault.BAD_STAR_CONTACT, "'Contact: *' with an 'Expires' above 0")


def _check_body_length(msg: Message) -> None:
    declared = msg.content_length
    if declared is not None and declared != len(msg.body):
        raise Invalid(
            Fault.INVALID_CONTENT_LENGTH,
            f"invalid body - content length {declared} different than actual body {len(msg.body)}",
        )


def validate(msg: Message, flags: str, proto: str) -> None:
    """Raise `Invalid` for the first check `msg` fails, in OpenSIPS's order."""
    wanted = set(flags.lower())
    try:  # what OpenSIPS parses with the header names: Via, CSeq, To, Content-Length
        msg.vias  # noqa: B018
        msg.cseq  # noqa: B018
        msg.to  # noqa: B018
        msg.content_length  # noqa: B018
        msg.call_id  # noqa: B018
    except SipParseError:
        raise Invalid(Fault.HDR_PARSE_ERROR, "message parsing failed") from None
    if not msg.call_id:
        raise Invalid(Fault.NO_CALLID, "message doesn't have callid")
    if proto != "udp" and msg.content_length is None:
        raise Invalid(
            Fault.NO_CONTENT_LENGTH,
            f"message doesn't have Content Length header for proto {proto}",
        )
    is_cancel = isinstance(msg, Request) and msg.method == "CANCEL"
    if not is_cancel:
        _check_body_length(msg)
        content_type = msg.header("Content-Type") or ""
        is_sdp = content_type.split(";")[0].strip().lower() == "application/sdp"
        if "s" in wanted and msg.body and is_sdp and parse_sdp(msg.body) is None:
            raise Invalid(Fault.PARSE_SDP, "failed to parse SDP message")
    for header, fault in (
        ("CSeq", Fault.NO_CSEQ),
        ("From", Fault.NO_FROM),
        ("To", Fault.NO_TO),
        ("Via", Fault.NO_VIA),
    ):
        if not msg.has_header(header):
            raise Invalid(fault, f"message doesn't have a '{header}' header")
    if "t" in wanted:
        faults = (Fault.TO_PARSE_ERROR, Fault.TO_DOMAIN_ERROR, Fault.TO_USERNAME_ERROR)
        _check_party(msg, "To", faults)
    if "f" in wanted:
        faults = (Fault.FROM_PARSE_ERROR, Fault.FROM_DOMAIN_ERROR, Fault.FROM_USERNAME_ERROR)
        _check_party(msg, "From", faults)
    if isinstance(msg, Request):
        _check_request(msg, wanted)
        method = msg.method
    else:
        cseq = msg.cseq
        if cseq is None:
            raise Invalid(Fault.NO_CSEQ, "cseq not parsed properly")
        method = cseq.method
        status = getattr(msg, "status", 0)
        needed = REPLY_NEEDS.get(status)
        if status == 423 and method == "REGISTER":
            needed = ("Min-Expires", Fault.NO_MIN_EXPIRES_423)
        if method != "CANCEL" and needed and not msg.has_header(needed[0]):
            raise Invalid(needed[1], f"a {status} reply without a '{needed[0]}' header")
        if "c" in wanted and 200 <= status < 400:
            _check_contacts(msg, method)
    if method != "CANCEL":
        _check_body_length(msg)
        if msg.body and not msg.has_header("Content-Type"):
            raise Invalid(Fault.NO_CONTENT_TYPE, "message has a body but no 'Content-Type'")
    if "h" in wanted:
        try:
            msg.validate(datagram=proto == "udp")
        except SipParseError as exc:
            raise Invalid(Fault.HDR_PARSE_ERROR, f"failed to parse headers: {exc.reason}") from None


def _check_request(msg: Request, wanted: set[str]) -> None:
    if "r" in wanted:
        try:
            uri = parse_uri(msg.ruri_text)
        except SipParseError:
            raise Invalid(Fault.RURI_PARSE_ERROR, "failed to parse R-URI") from None
        _check_uri(uri, (Fault.RURI_PARSE_ERROR, Fault.BAD_HOSTNAME, Fault.BAD_USERNAME), "R-URI")
    if "m" not in wanted and not msg.has_header("Max-Forwards"):
        raise Invalid(Fault.NO_MAX_FORWARDS, "message doesn't have a 'Max-Forwards' header")
    if "c" in wanted:
        _check_contacts(msg, msg.method)
    if msg.method != "REGISTER" and msg.has_header("Path"):
        raise Invalid(Fault.PATH_NONREGISTER, "PATH header supported only for REGISTERs")


@export(routes=R.REQUEST | R.FAILURE | R.ONREPLY | R.BRANCH, module="sipmsgops")
def sipmsg_validate(ctx: Ctx, flags: str | None = None, result_pvar: Out[str] | None = None) -> int:
    """1 when the message follows RFC 3261, else OpenSIPS's negative code for the first
    fault (the reason text in `result_pvar`). See the module docstring for the flags."""
    if ctx.detached:
        fault, reason = Fault.NO_MSG, "no message object"
    else:
        try:
            validate(ctx.msg, flags or "", ctx.socket.proto.lower())
            return 1
        except Invalid as exc:
            fault, reason = exc.fault, exc.reason
    if result_pvar is not None:
        result_pvar.set(reason)
    return int(fault)
