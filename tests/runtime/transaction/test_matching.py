"""Matching (RFC 3261 §17.1.3, §17.2.3): the magic-cookie keys and the RFC 2543 fallback."""

from __future__ import annotations

from runtime.sip import Request
from runtime.transaction import NewRequest, Send
from runtime.transaction.matching import cancel_target, client_key, rfc2543_key, server_key
from tests.runtime.transaction.helpers import UPSTREAM, Harness, answer, request, summary


def test_cookie_key_is_branch_sent_by_and_method() -> None:
    invite = request()
    assert server_key(invite) == server_key(request())
    assert server_key(invite) != server_key(request(branch="z9hG4bKother"))
    assert server_key(invite) != server_key(request(sent_by="10.0.0.7:5060"))
    assert server_key(invite) != server_key(request("OPTIONS"))


def test_ack_matches_the_invite_and_cancel_is_its_own() -> None:
    invite = request()
    ack = request("ACK", cseq_method="ACK")
    cancel = request("CANCEL")
    assert server_key(ack) == server_key(invite)
    assert server_key(cancel) != server_key(invite)
    assert cancel_target(cancel) == server_key(invite)


def test_a_branch_without_the_cookie_has_no_cookie_key() -> None:
    assert server_key(request(branch="1234abcd")) is None
    assert server_key(request(branch=None)) is None
    assert server_key(request(branch="z9hG4bK")) is None  # the cookie alone is no branch


def test_rfc2543_key_uses_the_request_identifiers() -> None:
    base = rfc2543_key(request(branch=None))
    assert base is not None
    assert base == rfc2543_key(request(branch=None, to_tag="anything"))  # To tag checked apart
    assert base != rfc2543_key(request(branch=None, ruri="sip:carol@example.com"))
    assert base != rfc2543_key(request(branch=None, from_tag="other"))
    assert base != rfc2543_key(request(branch=None, call_id="other"))
    assert base != rfc2543_key(request(branch=None, cseq=2))
    assert base != rfc2543_key(request(branch=None, sent_by="10.0.0.8"))
    assert base == rfc2543_key(request("ACK", branch=None, cseq_method="ACK"))


def test_client_key_is_branch_and_cseq_method() -> None:
    invite = request(branch="z9hG4bKours.1")
    assert client_key(answer(invite, 180)) == "z9hG4bKours.1 INVITE"
    cancel = request("CANCEL", branch="z9hG4bKours.1")
    assert client_key(answer(cancel, 200)) == "z9hG4bKours.1 CANCEL"


def _rfc2543_invite() -> Request:
    return request(branch=None)


def test_rfc2543_retransmission_is_absorbed() -> None:
    net = Harness()
    transaction = net.create(_rfc2543_invite())
    assert net.labels() == [(100, "10.0.0.1")]
    net.receive(_rfc2543_invite())
    assert net.labels() == [(100, "10.0.0.1")]
    assert net.take_delivered() == []
    assert net.layer.find(_rfc2543_invite()) is transaction


def test_rfc2543_ack_matches_by_the_tag_of_our_final() -> None:
    net = Harness()
    transaction = net.create(_rfc2543_invite())
    net.apply(transaction.reply(486))
    final = net.take()[-1].message
    assert final.to is not None and final.to.tag
    wrong = request("ACK", branch=None, cseq_method="ACK", to_tag="not-ours")
    assert summary(net.layer.receive(wrong, UPSTREAM)) == [("NewRequest",)]
    ack = request("ACK", branch=None, cseq_method="ACK", to_tag=final.to.tag)
    effects = net.receive(ack)
    assert summary(effects) == [("stop", "G"), ("stop", "H"), ("start", "I", 5.0)]
    assert transaction.server.state.value == "Confirmed"


def test_rfc2543_cancel_finds_its_invite() -> None:
    net = Harness()
    transaction = net.create(_rfc2543_invite())
    net.take()
    net.receive(request("CANCEL", branch=None))
    assert [s.label for s in net.take()] == [200, 487]
    assert transaction.cancelled
    # the retransmitted CANCEL is absorbed by its own transaction: 200 again, once
    net.receive(request("CANCEL", branch=None))
    assert [s.label for s in net.take()] == [200]


def test_a_different_rfc2543_request_is_new() -> None:
    net = Harness()
    net.create(_rfc2543_invite())
    effects = net.layer.receive(request(branch=None, cseq=2), UPSTREAM)
    assert len(effects) == 1 and isinstance(effects[0], NewRequest)


def test_cookie_matching_ignores_everything_but_the_key() -> None:
    net = Harness()
    net.create(request())
    net.take()
    # same branch and sent-by, another Call-ID: still the same transaction by §17.2.3
    effects = net.layer.receive(request(call_id="whatever"), UPSTREAM)
    assert [type(e) for e in effects] == [Send]
