"""Messages, a fake clock and a fake network for the transaction tests.

`Harness` plays the runtime: it applies effects (sends are recorded, timers go on a real
`TimerWheel` read against a fake clock) and collects deliveries. Peers are played by
building requests and responses by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime.sip import Request, Response, parse_message
from runtime.transaction import (
    Branch,
    Deliver,
    Effect,
    ProxyTransaction,
    Send,
    StartTimer,
    StopTimer,
    TimerSettings,
    TimerWheel,
    TransactionLayer,
    TuEvent,
)

UPSTREAM = ("udp", "10.0.0.1", 5060)
PROXY_SENT_BY = "10.0.0.2:5060"


def request(
    method: str = "INVITE",
    *,
    branch: str | None = "z9hG4bKupstream1",
    sent_by: str = "10.0.0.1:5060",
    ruri: str = "sip:bob@example.com",
    call_id: str = "call-1@10.0.0.1",
    cseq: int = 1,
    cseq_method: str | None = None,
    from_tag: str = "caller-tag",
    to_tag: str | None = None,
    extra: str = "",
) -> Request:
    via_params = f";branch={branch}" if branch is not None else ""
    to = "<sip:bob@example.com>" + (f";tag={to_tag}" if to_tag else "")
    text = (
        f"{method} {ruri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {sent_by}{via_params}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:alice@example.com>;tag={from_tag}\r\n"
        f"To: {to}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {cseq_method or method}\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    )
    parsed = parse_message(text.encode())
    assert isinstance(parsed, Request)
    return parsed


def copy(message: Request) -> Request:
    parsed = parse_message(message.to_bytes())
    assert isinstance(parsed, Request)
    return parsed


def answer(
    req: Request,
    status: int,
    *,
    to_tag: str = "callee-tag",
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    """What a downstream element sends back for `req` (a fresh object every time)."""
    response = req.make_response(status, to_tag=to_tag, headers=headers)
    parsed = parse_message(response.to_bytes())
    assert isinstance(parsed, Response)
    return parsed


def summary(effects: list[Effect]) -> list[tuple[Any, ...]]:
    """Effects as comparable tuples: what was sent, which timers, what the TU heard."""
    out: list[tuple[Any, ...]] = []
    for effect in effects:
        if isinstance(effect, Send):
            message = parse_message(effect.data)
            if isinstance(message, Response):
                out.append(("send", message.status))
            else:
                out.append(("send", message.method))
        elif isinstance(effect, StartTimer):
            out.append(("start", effect.id[1], effect.delay))
        elif isinstance(effect, StopTimer):
            out.append(("stop", effect.id[1]))
        elif isinstance(effect, TuEvent):
            out.append(("tu", effect.kind))
        else:
            out.append((type(effect).__name__,))
    return out


@dataclass
class Sent:
    message: Request | Response
    destination: Any
    transport: str

    @property
    def label(self) -> str | int:
        return self.message.status if isinstance(self.message, Response) else self.message.method


@dataclass
class Harness:
    """A transaction layer on a fake clock and a recording network."""

    settings: TimerSettings = field(default_factory=TimerSettings)
    now: float = 0.0
    layer: TransactionLayer = field(init=False)
    wheel: TimerWheel = field(init=False)
    sent: list[Sent] = field(default_factory=list)
    delivered: list[Deliver] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.layer = TransactionLayer(self.settings)
        self.wheel = TimerWheel(resolution=0.01, now=self.now)

    def apply(self, effects: list[Effect]) -> list[Effect]:
        for effect in effects:
            if isinstance(effect, Send):
                assert isinstance(effect.data, bytes)
                wire = parse_message(effect.data)
                self.sent.append(Sent(wire, effect.destination, effect.transport))
            elif isinstance(effect, StartTimer):
                self.wheel.schedule(effect.id, self.now + effect.delay)
            elif isinstance(effect, StopTimer):
                self.wheel.cancel(effect.id)
            elif isinstance(effect, Deliver):
                self.delivered.append(effect)
            else:
                raise AssertionError(f"a TU event leaked out of the layer: {effect}")
        return effects

    def receive(self, message: Request | Response, source: Any = UPSTREAM) -> list[Effect]:
        return self.apply(self.layer.receive(message, source))

    def create(self, req: Request) -> ProxyTransaction:
        transaction, effects = self.layer.create(req, UPSTREAM)
        self.apply(effects)
        return transaction

    def relay(self, transaction: ProxyTransaction, *targets: str) -> list[Request]:
        """Relay to each target; returns (and takes) the requests as they went on the wire."""
        before = len(self.sent)
        branches = [
            Branch(copy(transaction.request), ("udp", target, 5060), "udp", PROXY_SENT_BY)
            for target in targets
        ]
        self.apply(transaction.relay(branches))
        relayed = self.sent[before:]
        del self.sent[before:]
        return [s.message for s in relayed if isinstance(s.message, Request)]

    def advance(self, seconds: float) -> None:
        """Move the clock, firing every timer due on the way, in order."""
        end = self.now + seconds
        while True:
            due = self.wheel.next_due()
            if due is None or due > end + 1e-9:
                break
            self.now = max(self.now, due)
            for timer_id in self.wheel.expired(self.now):
                assert isinstance(timer_id, tuple)
                self.apply(self.layer.timer_fired(timer_id))
        self.now = end

    def take(self) -> list[Sent]:
        sent, self.sent = self.sent, []
        return sent

    def take_delivered(self) -> list[Deliver]:
        delivered, self.delivered = self.delivered, []
        return delivered

    def labels(self) -> list[tuple[str | int, Any]]:
        """(method or status, destination host) of everything sent, then forgotten."""
        return [(s.label, s.destination[1]) for s in self.take()]
