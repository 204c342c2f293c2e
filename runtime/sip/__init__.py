"""The sans-IO SIP message layer: parse, inspect, edit and frame SIP messages.

Start with `parse_message(data)` and the theory of operation in `runtime.sip.message`.
Nothing in this package does I/O or touches asyncio.
"""

from runtime.sip.derived import make_ack, make_cancel
from runtime.sip.errors import SipParseError
from runtime.sip.framing import DEFAULT_MAX_MESSAGE_SIZE, KeepAlive, StreamFramer
from runtime.sip.headers import (
    COMPACT_FORMS,
    MAGIC_COOKIE,
    CSeq,
    NameAddr,
    Via,
    canonical_name,
    parse_cseq,
    parse_name_addr,
    parse_name_addr_list,
    parse_via,
    parse_via_list,
)
from runtime.sip.lexical import Params, split_list
from runtime.sip.message import (
    Message,
    Request,
    Response,
    build_message,
    header_key,
    parse_message,
)
from runtime.sip.response import REASON_PHRASES, make_response, new_tag
from runtime.sip.uri import URI, OpaqueURI, SipURI, TelURI, parse_uri, sip_uris_equal, unescape
from runtime.sip.validate import MAX_CSEQ, validate_message

__all__ = [
    "COMPACT_FORMS",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "MAGIC_COOKIE",
    "MAX_CSEQ",
    "REASON_PHRASES",
    "URI",
    "CSeq",
    "KeepAlive",
    "Message",
    "NameAddr",
    "OpaqueURI",
    "Params",
    "Request",
    "Response",
    "SipParseError",
    "SipURI",
    "StreamFramer",
    "TelURI",
    "Via",
    "build_message",
    "canonical_name",
    "header_key",
    "make_ack",
    "make_cancel",
    "make_response",
    "new_tag",
    "parse_cseq",
    "parse_message",
    "parse_name_addr",
    "parse_name_addr_list",
    "parse_uri",
    "parse_via",
    "parse_via_list",
    "sip_uris_equal",
    "split_list",
    "unescape",
    "validate_message",
]
