"""The branches of a proxy transaction (RFC 3261 §16.6) and the choice of the response
that goes upstream when none of them brought a 2xx (§16.7 steps 6-7).

`Branch` is a branch as the owner asks for it; `ProxyBranch` is its state once the
transaction took it, with the script's attributes ($tm.branch.attr, searched by
`branch_by_attr`). `best_branch` and `add_challenges` are the selection rules
`runtime.transaction.proxy` applies when the last branch has ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from runtime.sip import Request, Response
from runtime.transaction.client import ClientNonInviteTransaction, ClientTransaction

# In the 4xx class, responses that help the caller retry (§16.7 step 6).
_RETRY_INFO = frozenset({401, 407, 415, 420, 484})
_CHALLENGES = ("WWW-Authenticate", "Proxy-Authenticate")


@dataclass(slots=True)
class Branch:
    """An outgoing branch as the owner asks for it.

    With `sent_by` ("host:port" of the sending socket) the layer adds our Via with a
    fresh branch id; without it the request must already carry a Via of ours whose
    branch is unique (see `ProxyTransaction.new_branch_id`).
    """

    request: Request
    destination: Any
    transport: str = "udp"
    sent_by: str | None = None


class ProxyBranch:
    """The state of one relayed branch (RFC 3261 §16.6/§16.7).

    Until the branch is sent, `request` is the request the owner gave, for the branch
    hook to edit; once sent it is the request as it went on the wire, with our Via
    (parsed again from the bytes when first read: the layer keeps only the bytes).
    """

    __slots__ = (
        "_request",
        "attrs",
        "branch_id",
        "cancel",
        "cancel_wanted",
        "client",
        "destination",
        "final",
        "index",
        "key",
        "local",
        "provisional",
        "status",
        "transport",
    )

    def __init__(self, index: int, request: Request, destination: Any, transport: str) -> None:
        self.index = index
        self._request: Request | None = request
        self.destination = destination
        self.transport = transport
        self.branch_id = ""
        self.key = ""
        self.client: ClientTransaction | None = None
        self.cancel: ClientNonInviteTransaction | None = None
        self.cancel_wanted = False
        self.provisional = False
        self.status = 0  # of its final response; 0 while pending
        self.final: Response | None = None  # kept until a final goes upstream
        self.local = False  # `final` was made here (timeout, transport error)
        # the script's per-branch attributes ($tm.branch.attr), made on first use
        self.attrs: dict[str, int | str] | None = None

    @property
    def request(self) -> Request:
        if self.client is not None:
            return self.client.request
        assert self._request is not None
        return self._request

    @property
    def pending(self) -> bool:
        return self.status == 0

    def attr(self, name: str) -> int | str | None:
        """The value of attribute `name`, or None."""
        attrs = self.attrs
        return attrs.get(name) if attrs is not None else None

    def set_attr(self, name: str, value: int | str | None) -> None:
        """Give attribute `name` this value (None removes it): one value per name."""
        attrs = self.attrs
        if value is None:
            if attrs is not None:
                attrs.pop(name, None)
            return
        if attrs is None:
            attrs = self.attrs = {}
        attrs[name] = value

    def __repr__(self) -> str:
        status = self.status or "pending"
        return f"<ProxyBranch {self.index} {self.key} {status}>"


def branch_by_attr(
    branches: Sequence[ProxyBranch], name: str, value: int | str | None, start: int = 0
) -> int:
    """The index of the first branch from `start` on that has attribute `name` (with
    `value`, of the same type, unless None), whatever its state; -1 when none has."""
    for position in range(max(start, 0), len(branches)):
        found = branches[position].attr(name)
        if found is None:
            continue
        if value is None or (type(found) is type(value) and found == value):
            return position
    return -1


def best_branch(branches: Iterable[ProxyBranch]) -> ProxyBranch | None:
    """The branch whose final response goes upstream (§16.7 step 6): a 6xx first, then the
    lowest class; in it the responses that help a retry (401/407/415/420/484), and a
    received response before one made here. None when no branch has a 300-699 stored."""
    best: ProxyBranch | None = None
    best_rank: tuple[int, int, int] | None = None
    for branch in branches:
        final = branch.final
        if final is None or final.status < 300:
            continue
        status = final.status
        rank = (
            0 if status >= 600 else status // 100,
            0 if status in _RETRY_INFO else 1,
            1 if branch.local else 0,
        )
        if best_rank is None or rank < best_rank:
            best, best_rank = branch, rank
    return best


def add_challenges(
    response: Response, branches: Iterable[ProxyBranch], chosen: ProxyBranch
) -> None:
    """§16.7 step 7: the 401/407 going upstream carries every branch's challenge, so the
    caller may answer them all in one retry."""
    for branch in branches:
        final = branch.final
        if branch is chosen or branch.local or final is None or final.status not in (401, 407):
            continue
        for name in _CHALLENGES:
            for value in final.headers_named(name):
                response.add_header(name, value)
