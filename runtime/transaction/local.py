"""Requests of our own: one client transaction whose responses end here (RFC 3261 §17.1).

Theory of operation
-------------------
tm sends two kinds of request that belong to no upstream caller: the copy
`t_replicate()` makes of a request (its answers are never forwarded: OpenSIPS marks
such a transaction local), and the request `t_new_request()` builds from scratch (sent
with no reply callback: its answers are absorbed). A `LocalTransaction` owns the one
client machine of such a request. The layer keeps it in `TransactionLayer.local`, apart
from the proxy transactions, and looks there only when a response, a timer or a
transport error finds no proxy transaction: the proxy's path pays nothing for it.

Its responses are counted (`final_status`, `responses`) and dropped. A 2xx to an INVITE
is ACKed on the spot (to the same hop, with the branch and To tag of the answer: a
peer matches it by dialog), so the callee stops repeating it; a 300-699 is ACKed by the
machine itself (§17.1.1.3). It ends when its machine ends (`done`).
"""

from __future__ import annotations

from typing import Any

from runtime.sip import Request, Response
from runtime.sip.derived import DEFAULT_MAX_FORWARDS
from runtime.sip.message import build_message, header_line
from runtime.transaction.client import ClientTransaction, new_client_transaction
from runtime.transaction.effects import Effect, Send, TimerId, TimerSettings, TuEvent
from runtime.transaction.matching import client_key_for


class LocalTransaction:
    """A request sent on our own behalf; see the module doc."""

    __slots__ = ("branch_id", "client", "done", "final_status", "key", "responses")

    def __init__(
        self,
        branch_id: str,
        method: str,
        wire: bytes,
        destination: Any,
        transport: str,
        settings: TimerSettings,
    ) -> None:
        self.branch_id = branch_id
        self.key = client_key_for(branch_id, method)
        self.client: ClientTransaction = new_client_transaction(
            self.key, method, wire, destination, transport, settings
        )
        self.final_status = 0  # 408 on a timeout, 503 on a transport error
        self.responses: list[int] = []  # every status received, in order
        self.done = False

    def start(self) -> list[Effect]:
        return self._step(self.client.start())

    def receive_response(self, key: str, response: Response, source: Any) -> list[Effect]:
        return self._step(self.client.receive(response))

    def timer_fired(self, timer_id: TimerId) -> list[Effect]:
        return self._step(self.client.timer_fired(timer_id[1]))

    def transport_error(self, key: str) -> list[Effect]:
        return self._step(self.client.transport_error())

    def _step(self, effects: list[Effect]) -> list[Effect]:
        out: list[Effect] = []
        for effect in effects:
            if type(effect) is not TuEvent:
                out.append(effect)
                continue
            assert isinstance(effect, TuEvent)
            kind = effect.kind
            if kind == "terminated":
                self.done = True
            elif kind == "timeout" and not self.final_status:
                self.final_status = 408
            elif kind == "transport-error" and not self.final_status:
                self.final_status = 503
            elif kind == "response" and effect.response is not None:
                self._answered(effect.response, out)
        return out

    def _answered(self, response: Response, out: list[Effect]) -> None:
        status = response.status
        self.responses.append(status)
        if status >= 200 and not self.final_status:
            self.final_status = status
        client = self.client
        if 200 <= status < 300 and client.request.method == "INVITE":
            ack = ack_for_2xx(client.request, response)
            out.append(Send(ack, client.destination, client.transport))


def ack_for_2xx(request: Request, response: Response) -> bytes:
    """An ACK for a 2xx to our own INVITE: the request's Via and Route set, the answer's
    To (with its tag), to the Contact of the answer when it gives one."""
    contacts = response.contacts
    target = str(contacts[0].uri) if contacts else request.ruri_text
    cseq = request.cseq
    number = cseq.number if cseq is not None else 1
    lines = [
        header_line("Via", request.header("Via") or ""),
        header_line("Max-Forwards", str(DEFAULT_MAX_FORWARDS)),
        header_line("From", request.header("From") or ""),
        header_line("To", response.header("To") or ""),
        header_line("Call-ID", request.header("Call-ID") or ""),
        header_line("CSeq", f"{number} ACK"),
    ]
    lines.extend(header_line("Route", value) for value in request.headers_named("Route"))
    lines.append(header_line("Content-Length", "0"))
    return build_message(f"ACK {target} SIP/2.0", lines).to_bytes()
