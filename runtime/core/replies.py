"""Stateless replies: deterministic To-tags, branches, and a 400 for unparsable requests.

A stateless element keeps no memory between retransmissions, so what it puts in a
message must be a pure function of the message: the To-tag of a local reply (so the
retransmitted request gets the same tag) and the branch of a forwarded request (RFC 3261
§16.11: a retransmission, and the CANCEL or ACK of an INVITE, get the same branch).
"""

from __future__ import annotations

import hashlib
import secrets

from runtime.sip import MAGIC_COOKIE, Request

_PROCESS_SECRET = secrets.token_bytes(16)  # so peers cannot predict our branches
# keyed hashers by digest size: copying one is cheaper than keying a new one per message
_HASHERS = {size: hashlib.blake2b(digest_size=size, key=_PROCESS_SECRET) for size in (8, 10)}


def _digest(key: str, size: int) -> str:
    hasher = _HASHERS[size].copy()
    hasher.update(key.encode("utf-8", "surrogateescape"))
    return hasher.hexdigest()


def _transaction_key(request: Request) -> str:
    """What identifies the request's transaction upstream, whatever its method.

    The top Via branch when it is an RFC 3261 one; else the RFC 2543 identifiers
    (Call-ID, From tag, CSeq number, top Via sent-by, R-URI), so INVITE, its
    retransmissions, its CANCEL and its non-2xx ACK all map to the same key.
    """
    top = request.top_via
    if top is not None:
        branch = top.branch  # has_rfc3261_branch, without reading the branch twice
        if branch is not None and len(branch) > 7 and branch.startswith(MAGIC_COOKIE):
            port = top.port
            return f"{branch}|{top.host}" if port is None else f"{branch}|{top.host}:{port}"
    cseq = (request.header("CSeq") or "").split(None, 1)[:1]
    from_ = request.header("From") or ""
    sent_by = top.sent_by if top is not None else ""
    return f"{request.header('Call-ID')}|{from_}|{cseq}|{sent_by}|{request.ruri_text}"


def stateless_branch(request: Request, destination: str) -> str:
    """Branch of our Via on `request` forwarded to `destination` (RFC 3261 §16.11)."""
    return MAGIC_COOKIE + _digest(f"{_transaction_key(request)}|{destination}", 10)


def stateless_to_tag(request: Request) -> str:
    """To-tag of a local reply; the same for every retransmission of the request."""
    return _digest(_transaction_key(request), 8)


_REPLY_HEADERS = {
    "via": "via",
    "v": "via",
    "from": "from",
    "f": "from",
    "to": "to",
    "t": "to",
    "call-id": "call-id",
    "i": "call-id",
    "cseq": "cseq",
}


def salvage_bad_request(data: bytes, reason: str = "Bad Request") -> bytes | None:
    """A 400 for bytes that did not parse as a request, when one can be formed.

    Needs a request line and the Via, From, To, Call-ID and CSeq lines (copied as they
    are); None for a reply, an ACK, or when any of them is missing.
    """
    head = data.split(b"\r\n\r\n", 1)[0].lstrip(b"\r\n")
    lines = head.split(b"\r\n")
    first = lines[0].split(b" ")
    if len(first) != 3 or first[0].startswith(b"SIP/") or not first[2].startswith(b"SIP/"):
        return None
    if first[0] == b"ACK":
        return None
    found: dict[str, list[bytes]] = {}
    for line in lines[1:]:
        name, colon, _ = line.partition(b":")
        if not colon:
            continue
        key = _REPLY_HEADERS.get(name.strip().lower().decode("latin-1"))
        if key is not None:
            found.setdefault(key, []).append(line)
    if len(found) < 5 or len(found["cseq"]) != 1 or b"ACK" in found["cseq"][0].upper():
        return None
    if b"tag=" not in found["to"][0]:
        found["to"][0] = found["to"][0].rstrip() + b";tag=" + secrets.token_hex(8).encode()
    out = [f"SIP/2.0 400 {reason}".encode("utf-8", "replace")]
    for key in ("via", "from", "to", "call-id", "cseq"):
        out.extend(found[key])
    out.append(b"Content-Length: 0")
    return b"\r\n".join(out) + b"\r\n\r\n"
