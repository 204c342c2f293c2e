"""`sipc sip ...`: SIP debugging tools on top of `runtime.sip` (no network)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from runtime.sip import (
    Message,
    NameAddr,
    OpaqueURI,
    Request,
    SipParseError,
    SipURI,
    StreamFramer,
    TelURI,
    Via,
    parse_message,
)
from runtime.sip.uri import URI


@click.group("sip", context_settings={"help_option_names": ["-h", "--help"]})
def sip_group() -> None:
    """Inspect SIP messages the way the sipc proxy reads them."""


@sip_group.command("parse")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@click.option(
    "--tcp",
    is_flag=True,
    help="Treat each file as bytes read from a TCP stream: cut messages by Content-Length "
    "(mandatory on streams) and skip CRLF keep-alives. Default: one UDP datagram per file.",
)
@click.option(
    "--no-validate",
    is_flag=True,
    help="Only the structural parse (start line, header lines, body); skip the RFC 3261 "
    "checks a proxy applies before processing (mandatory headers, CSeq, Content-Length...).",
)
@click.option("--compact", is_flag=True, help="One JSON object per line instead of indented JSON.")
def parse_command(files: tuple[str, ...], tcp: bool, no_validate: bool, compact: bool) -> None:
    """Parse SIP messages from FILES ('-' reads stdin) and print them as JSON.

    Each file is read as exact bytes (keep CRLF line ends). The JSON shows the start
    line, every header in order as written, and the fields a proxy uses, parsed: the
    Request-URI, each Via (transport, sent-by, branch, received, rport), From/To
    (display name, URI, tag), Contact, Route, Record-Route, CSeq, Call-ID,
    Max-Forwards, Content-Length and the body.

    A message the proxy would reject (it answers 400, or drops a response) is reported
    on stderr as `FILE: error at byte N: REASON`, N being the offset of the fault in
    the file. Exit status: 0 when every message is valid, 1 when any is not, 2 when a
    FILE cannot be read (missing, a folder, no permission).

    \b
    sipc sip parse invite.sip
    sipc sip parse --tcp capture.bin
    sipc sip parse - < msg.sip          (one message on stdin)
    """
    failed = False
    for name in files:
        try:
            data = sys.stdin.buffer.read() if name == "-" else _read(name)
        except OSError as exc:  # a folder or a file that went away after click looked
            click.echo(f"sipc: cannot read {name}: {exc.strerror}", err=True)
            sys.exit(2)
        label = "<stdin>" if name == "-" else name
        try:
            for index, (offset, message) in enumerate(_messages(data, tcp=tcp)):
                if not no_validate:
                    try:
                        message.validate(datagram=not tcp)
                    except SipParseError as error:
                        raise error.shifted(offset) from None
                document = {"file": label, **({"index": index} if tcp else {})}
                document.update(describe(message))
                click.echo(json.dumps(document, indent=None if compact else 2))
        except SipParseError as error:
            failed = True
            click.echo(f"{label}: error at byte {error.offset}: {error.reason}", err=True)
    sys.exit(1 if failed else 0)


def _read(name: str) -> bytes:
    with open(name, "rb") as handle:
        return handle.read()


def _messages(data: bytes, *, tcp: bool) -> list[tuple[int, Message]]:
    """(offset in `data`, message) for the one datagram or each message of a stream."""
    if not tcp:
        return [(0, parse_message(data))]
    framer = StreamFramer(max_message_size=max(len(data), 1))
    messages: list[tuple[int, Message]] = []
    consumed = 0
    for item in framer.feed(data):
        if isinstance(item, bytes):
            try:
                messages.append((consumed, parse_message(item)))
            except SipParseError as error:
                raise error.shifted(consumed) from None
            consumed += len(item)
        else:
            consumed += 4 if item.ping else 2
    if framer.buffered:
        raise SipParseError("stream ends inside a message", len(data) - framer.buffered)
    return messages


def describe(message: Message) -> dict[str, Any]:
    """A JSON-ready view of a message: start line, headers, parsed proxy fields."""
    out: dict[str, Any] = {}
    if isinstance(message, Request):
        out["type"] = "request"
        out["method"] = message.method
        out["request_uri"] = describe_uri(message.ruri)
    else:
        out["type"] = "response"
        out["status"] = getattr(message, "status", 0)
        out["reason"] = getattr(message, "reason", "")
    out["version"] = message.version
    out["headers"] = [{"name": name, "value": value} for name, value in message.headers]
    out["via"] = [describe_via(via) for via in message.vias]
    out["from"] = _maybe(message.from_)
    out["to"] = _maybe(message.to)
    out["call_id"] = message.call_id
    cseq = message.cseq
    out["cseq"] = None if cseq is None else {"number": cseq.number, "method": cseq.method}
    out["max_forwards"] = message.max_forwards
    out["contact"] = "*" if message.contact_star else [_describe_address(c) for c in message.contacts]
    out["route"] = [_describe_address(r) for r in message.routes]
    out["record_route"] = [_describe_address(r) for r in message.record_routes]
    out["content_length"] = message.content_length
    out["body_length"] = len(message.body)
    out["body"] = message.body.decode("utf-8", "backslashreplace")
    return out


def describe_uri(uri: URI) -> dict[str, Any]:
    if isinstance(uri, SipURI):
        return {
            "text": str(uri),
            "scheme": uri.scheme,
            "user": uri.user,
            "password": uri.password,
            "host": uri.host,
            "port": uri.port,
            "params": [list(param) for param in uri.params],
            "headers": [list(header) for header in uri.headers],
        }
    if isinstance(uri, TelURI):
        return {"text": str(uri), "scheme": uri.scheme, "number": uri.number,
                "params": [list(param) for param in uri.params]}
    assert isinstance(uri, OpaqueURI)
    return {"text": str(uri), "scheme": uri.scheme, "opaque": uri.opaque}


def describe_via(via: Via) -> dict[str, Any]:
    return {
        "protocol": via.protocol,
        "transport": via.transport,
        "host": via.host,
        "port": via.port,
        "branch": via.branch,
        "rfc3261_branch": via.has_rfc3261_branch,
        "received": via.received,
        "rport": via.rport if via.rport is not None else via.has_rport,
        "params": [list(param) for param in via.params],
    }


def _describe_address(address: NameAddr) -> dict[str, Any]:
    return {
        "display_name": address.display_name,
        "uri": describe_uri(address.uri),
        "tag": address.tag,
        "params": [list(param) for param in address.params],
    }


def _maybe(address: NameAddr | None) -> dict[str, Any] | None:
    return None if address is None else _describe_address(address)
