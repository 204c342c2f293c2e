"""Transaction keys: how a message finds its transaction (RFC 3261 §17.1.3, §17.2.3).

Server side, RFC 3261 branch (magic cookie `z9hG4bK`): branch + sent-by + method of the
top Via and request, with ACK counted as INVITE (the ACK of a non-2xx belongs to the
INVITE transaction) and CANCEL as itself (it is a transaction of its own; `cancel_target`
gives the key of the INVITE it cancels). One string, one dict lookup.

Server side, RFC 2543 peers (no cookie): the Request-URI, From tag, Call-ID, CSeq number,
top Via and method (ACK as INVITE) form a tuple key in a second index. The To tag is
checked after the lookup (`to_tag_matches`) because the ACK's To carries the tag of our
response, which the INVITE's did not have.

Client side: branch of the top Via (ours) + CSeq method. The CANCEL we send reuses its
INVITE's branch, and the method tells the two transactions apart.
"""

from __future__ import annotations

from runtime.sip import Request, Response, SipParseError

Rfc2543Key = tuple[str, str, str, int, str, str]


def _transaction_method(method: str) -> str:
    return "INVITE" if method == "ACK" else method


def server_key(request: Request, method: str | None = None) -> str | None:
    """The RFC 3261 key of `request`'s server transaction; None without a cookie branch.

    `method` overrides the request's own (the INVITE a CANCEL refers to).
    """
    top = request.top_via
    if top is None:
        return None
    branch = top.branch
    if branch is None or len(branch) <= 7 or not branch.startswith("z9hG4bK"):
        return None
    return f"{branch} {top.sent_by.lower()} {method or _transaction_method(request.method)}"


def cancel_target(request: Request) -> str | None:
    """The key of the INVITE server transaction that a CANCEL refers to."""
    return server_key(request, "INVITE")


def rfc2543_key(request: Request, method: str | None = None) -> Rfc2543Key | None:
    """The RFC 2543 key of `request` (To tag left out, see the module docstring)."""
    try:
        top = request.top_via
        from_ = request.from_
        cseq = request.cseq
    except SipParseError:
        return None
    call_id = request.call_id
    if top is None or from_ is None or cseq is None or call_id is None:
        return None
    via = f"{top.transport.upper()} {top.sent_by.lower()} {top.branch or ''}"
    return (
        request.ruri_text,
        from_.tag or "",
        call_id,
        cseq.number,
        via,
        method or _transaction_method(request.method),
    )


def to_tag(message: Request | Response) -> str:
    try:
        to = message.to
    except SipParseError:
        return ""
    return "" if to is None or to.tag is None else to.tag


def client_key(response: Response) -> str | None:
    """The key of the client transaction `response` answers; None when it cannot have one."""
    try:
        top = response.top_via
    except SipParseError:
        return None
    if top is None:
        return None
    branch = top.branch
    if branch is None:
        return None
    # only the method is needed: the raw value's last word, no CSeq object built
    cseq = response.header("CSeq")
    if cseq is None:
        return None
    words = cseq.split()
    if len(words) != 2 or not words[0].isdigit():
        return None  # what parsing the CSeq would refuse
    return branch + " " + words[1]


def client_key_for(branch: str, method: str) -> str:
    return f"{branch} {method}"
