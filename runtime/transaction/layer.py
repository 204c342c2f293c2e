"""The transaction layer's front door: match what arrives, create what the script asks for.

Theory of operation
-------------------
The pipeline hands every parsed message to `receive(message, source, transport)` and
every fired timer id to `timer_fired(id)`, and applies the effects that come back in
order. It creates a transaction with `create()` when the script asks for one (t_relay,
t_newtran, t_reply, or before a route first suspends) and then drives it through the
`ProxyTransaction`'s own actions (`relay`, `reply`, `forward_best`, `cancel`).

Requests (§17.2.3): one dict lookup by RFC 3261 key, or by RFC 2543 key plus a To-tag
check. A match is a retransmission (absorbed; the last response is re-sent, except
after a 2xx: an INVITE transaction then stays Accepted for `wt_timer`, RFC 6026, and
absorbs it silently) or an ACK (absorbed by an INVITE transaction that sent a non-2xx;
passed on as a `NewRequest` otherwise: the ACK of a 2xx is end to end). A CANCEL that is no retransmission looks
for the INVITE it cancels (§9.2/§16.10): found, that transaction answers it; not found,
a stateless 481 (or a `StrayCancel` when `answer_unknown_cancel` is off). Anything else
is a `NewRequest` for the main route, with no transaction yet: a stateless script pays
for none.

Responses (§17.1.3): by top Via branch and CSeq method; one that finds no live client
transaction is a `StrayResponse`, for the stateless forward of §16.7.

For the pipeline
----------------
- Apply effects in order: `Send(data, destination, transport, key)` goes out as is (the
  destination is the request's `Source` upstream, answered per §18.2.2, or the one a
  `Branch` named); a failed send is reported with `transport_error(key)`. Timers go on
  one `TimerWheel` (`apply_timers`); one periodic tick feeds `wheel.expired(now)` back
  through `timer_fired`.
- t_newtran / t_relay / t_reply / a route about to suspend: `create()` unless
  `find()` has one. t_relay: one `Branch` per target (`sent_by` = our socket) and
  `relay()`; t_reply: `reply()`; t_check_trans: `find()` / `find_invite()`;
  t_was_cancelled: `cancelled`; t_cancel_branch("a"): `cancel()`.
- t_on_branch / t_on_reply: set `on_branch` / `on_reply` to callbacks that run the
  route (False = drop). They are synchronous calls, not deliveries, because the route's
  verdict and edits decide what is sent next, in the same step.
- t_on_failure: `has_failure_route = True`; on `Failure` run the route, then `relay()`,
  `reply()` or, when it did neither, `forward_best()`.
- $T_fr_timeout / $T_fr_inv_timeout: `create(settings=...)`, or replace
  `transaction.settings` before `relay()`.
- `Terminated`: drop what hangs on the transaction (`user_data`: $avp, flags); a
  settled transaction drops it earlier by itself. `request_route_done()` once the
  request route has ended lets a settled transaction release its request.
"""

from __future__ import annotations

from typing import Any

from runtime.sip import Request, Response
from runtime.transaction.effects import (
    DEFAULT_SETTINGS,
    Effect,
    NewRequest,
    Send,
    StrayCancel,
    StrayResponse,
    TimerId,
    TimerSettings,
    TransactionError,
)
from runtime.transaction.local import LocalTransaction
from runtime.transaction.matching import (
    cancel_target,
    client_key,
    rfc2543_key,
    server_key,
    to_tag,
)
from runtime.transaction.proxy import ProxyTransaction
from runtime.transaction.table import TransactionTable, synthetic_key


class TransactionLayer:
    __slots__ = ("_key_of", "local", "settings", "table")

    def __init__(self, settings: TimerSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        self.table = TransactionTable()
        # requests of our own (t_replicate, t_new_request) by client key: looked up only
        # when a response or a timer finds no proxy transaction (local.py)
        self.local: dict[str, LocalTransaction] = {}
        # (request, its top Via, its method) and their key: `find` then `create` on the
        # same request (every t_relay) build the key once
        self._key_of: tuple[Request | None, object, str, str | None] = (None, None, "", None)

    # ------------------------------------------------------------------ input

    def receive(
        self, message: Request | Response, source: Any, transport: str = "udp"
    ) -> list[Effect]:
        if not isinstance(message, Request):
            return self.receive_response(message, source)
        transaction = self.find(message)
        if transaction is not None:
            return transaction.receive_request(message, source, transport)
        if message.method == "CANCEL":
            return self._on_cancel(message, source, transport)
        return [NewRequest(message, source, transport)]

    def timer_fired(self, timer_id: TimerId) -> list[Effect]:
        transaction = self.table.by_key.get(timer_id[0])
        if transaction is None:
            local = self.local.get(timer_id[0])
            if local is not None:
                return self._local_step(local, local.timer_fired(timer_id))
            return []  # its transaction is gone: a timer nobody stopped in time
        return transaction.timer_fired(timer_id)

    def transport_error(self, key: str) -> list[Effect]:
        """Sending a `Send` whose `key` this is failed; the machines treat it per §17."""
        transaction = self.table.get(key) if key else None
        if transaction is None:
            local = self.local.get(key)
            if local is not None:
                return self._local_step(local, local.transport_error(key))
            return []
        return transaction.transport_error(key)

    # ------------------------------------------------------------------ lookup

    def find(self, request: Request) -> ProxyTransaction | None:
        """The transaction `request` belongs to (a CANCEL: its own, not its INVITE's)."""
        key = self._server_key(request)
        if key is not None:
            return self.table.by_key.get(key)
        return self._find_rfc2543(request, None)

    def _server_key(self, request: Request) -> str | None:
        """`server_key(request)`, remembered for the last request asked about."""
        top = request.top_via
        last, last_top, last_method, key = self._key_of
        if last is request and last_top is top and last_method == request.method:
            return key
        key = server_key(request)
        self._key_of = (request, top, request.method, key)
        return key

    def find_invite(self, cancel: Request) -> ProxyTransaction | None:
        """The INVITE transaction a CANCEL refers to (t_check_trans on a CANCEL)."""
        key = cancel_target(cancel)
        if key is not None:
            transaction = self.table.get(key)
        else:
            transaction = self._find_rfc2543(cancel, "INVITE")
        if transaction is None or not transaction.is_invite:
            return None
        return transaction

    def _find_rfc2543(self, request: Request, method: str | None) -> ProxyTransaction | None:
        key = rfc2543_key(request, method)
        if key is None:
            return None
        transaction = self.table.get_rfc2543(key)
        if transaction is None:
            return None
        tag = to_tag(request)
        if tag == transaction.request_to_tag:
            return transaction
        if request.method == "ACK" and tag == transaction.final_to_tag:
            return transaction  # the ACK carries the tag of the final we sent
        return None

    # ------------------------------------------------------------------ creation

    def create(
        self,
        request: Request,
        source: Any,
        transport: str = "udp",
        settings: TimerSettings | None = None,
    ) -> tuple[ProxyTransaction, list[Effect]]:
        """A new transaction for `request` and the effects of creating it (100 Trying).

        `settings` overrides the layer's for this transaction ($T_fr_timeout and the like).
        """
        if request.method == "ACK":
            raise TransactionError("an ACK never creates a transaction")
        key = self._server_key(request)
        old_key = None
        if key is None:
            if self._find_rfc2543(request, None) is not None:
                raise TransactionError("the request already has a transaction")
            old_key = rfc2543_key(request)
            if old_key is None:
                raise TransactionError("the request lacks Via, From, Call-ID or CSeq")
            key = synthetic_key()
        elif key in self.table.by_key:
            raise TransactionError("the request already has a transaction")
        transaction = ProxyTransaction(
            self.table,
            request,
            source,
            transport,
            settings or self.settings,
            key,
            old_key,
            to_tag(request) if old_key is not None else "",  # only RFC 2543 matching reads it
        )
        return transaction, transaction.start()

    # ------------------------------------------------------------------ internals

    def _on_cancel(self, cancel: Request, source: Any, transport: str) -> list[Effect]:
        invite = self.find_invite(cancel)
        if invite is None:
            if self.settings.answer_unknown_cancel:
                return [Send(cancel.make_response(481).to_bytes(), source, transport)]
            return [StrayCancel(cancel, source, transport)]
        key = server_key(cancel)
        old_key = None
        if key is None:
            old_key = rfc2543_key(cancel)
            key = synthetic_key()
        return invite.receive_cancel(cancel, source, transport, key, old_key)

    def receive_response(self, response: Response, source: Any) -> list[Effect]:
        """`receive()` for a message known to be a response (the pipeline knows)."""
        key = client_key(response)
        transaction = self.table.by_key.get(key) if key is not None else None
        if transaction is None or key is None:
            local = self.local.get(key) if key is not None and self.local else None
            if local is not None and key is not None:
                return self._local_step(local, local.receive_response(key, response, source))
            return [StrayResponse(response, source)]
        return transaction.receive_response(key, response, source)

    # ------------------------------------------------------------------ requests of our own

    def start_local(self, local: LocalTransaction) -> list[Effect]:
        """Send a request of our own (t_replicate, t_new_request) and keep its machine
        until it ends; it counts as live, so the runtime hands its answers here."""
        if local.key in self.local or local.key in self.table:
            raise TransactionError("a transaction with this branch exists already")
        self.local[local.key] = local
        self.table.live += 1
        return self._local_step(local, local.start())

    def _local_step(self, local: LocalTransaction, effects: list[Effect]) -> list[Effect]:
        if local.done and self.local.pop(local.key, None) is not None:
            self.table.live -= 1
        return effects

    def __len__(self) -> int:
        return len(self.table)
