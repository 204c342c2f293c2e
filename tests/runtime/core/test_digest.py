"""Digest computation, stateless nonces and the replay table (runtime/core/digest.py),
and the credentials parser (runtime/core/credentials.py)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.core.credentials import CredentialsError, parse_credentials
from runtime.core.digest import (
    ALGORITHMS,
    MD5,
    NonceIssuer,
    NonceStatus,
    Qop,
    ReplayGuard,
    algorithm_named,
    build_challenge,
    compute_ha1,
    compute_response,
    parse_nc,
    parse_qop_list,
    responses_match,
)

SHA256 = ALGORITHMS["SHA-256"]


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------ published vectors


def test_rfc2617_section_3_5_example() -> None:
    ha1 = compute_ha1(MD5, "Mufasa", "testrealm@host.com", "Circle Of Life")
    response = compute_response(
        MD5,
        ha1,
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        method="GET",
        uri="/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce="0a4f113b",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1_examples(algorithm: str, expected: str) -> None:
    alg = ALGORITHMS[algorithm]
    ha1 = compute_ha1(alg, "Mufasa", "http-auth@example.org", "Circle of Life")
    response = compute_response(
        alg,
        ha1,
        nonce=RFC7616_NONCE,
        method="GET",
        uri="/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce=RFC7616_CNONCE,
    )
    assert response == expected


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_sip_register_without_qop_is_the_rfc2069_form() -> None:
    # spelled out step by step with hashlib, as a SIP phone computes it
    ha1 = _md5("alice:example.com:s3cret")
    ha2 = _md5("REGISTER:sip:example.com")
    expected = _md5(f"{ha1}:abc123:{ha2}")
    got = compute_response(
        MD5,
        compute_ha1(MD5, "alice", "example.com", "s3cret"),
        nonce="abc123",
        method="REGISTER",
        uri="sip:example.com",
    )
    assert got == expected


def test_auth_int_hashes_the_body_and_sess_rehashes_ha1() -> None:
    body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
    ha1 = _md5("bob:biloxi.com:zanzibar")
    sess = _md5(f"{ha1}:n0nce:c1")
    ha2 = _md5(f"INVITE:sip:bob@biloxi.com:{hashlib.md5(body).hexdigest()}")
    expected = _md5(f"{sess}:n0nce:0000000a:c1:auth-int:{ha2}")
    got = compute_response(
        ALGORITHMS["MD5-SESS"],
        ha1,
        nonce="n0nce",
        method="INVITE",
        uri="sip:bob@biloxi.com",
        qop="auth-int",
        nc="0000000a",
        cnonce="c1",
        body=body,
    )
    assert got == expected


def test_sha512_256_is_the_truncated_sha512_variant() -> None:
    alg = ALGORITHMS["SHA-512-256"]
    assert compute_ha1(alg, "a", "r", "p") == hashlib.new("sha512_256", b"a:r:p").hexdigest()
    assert alg.hex_length == 64 and MD5.hex_length == 32


def test_algorithm_names_are_case_insensitive_and_default_to_md5() -> None:
    assert algorithm_named(None) is MD5
    assert algorithm_named("sha-256") is SHA256
    assert algorithm_named("SHA-256-sess") is ALGORITHMS["SHA-256-SESS"]
    assert algorithm_named("SHA-1") is None


def test_responses_match_ignores_hex_case_only() -> None:
    assert responses_match("abcdef", "ABCDEF")
    assert not responses_match("abcdef", "abcdee")
    assert not responses_match("abcdef", "abcdef0")


def test_qop_lists_and_nonce_counts() -> None:
    assert parse_qop_list("auth, auth-int") == Qop.AUTH | Qop.AUTH_INT
    assert parse_qop_list("") == Qop.NONE
    assert parse_qop_list("auth-conf") is None
    assert parse_nc("0000000a") == 10
    assert parse_nc("0x01") is None
    assert parse_nc("123456789") is None
    assert parse_nc(None) is None


def test_challenge_header_value() -> None:
    value = build_challenge('we "quote"', "N", SHA256, Qop.AUTH, stale=True)
    assert value == (
        'Digest realm="we \\"quote\\"", nonce="N", stale=true, qop="auth", algorithm=SHA-256'
    )
    assert "qop" not in build_challenge("r", "N", MD5, Qop.NONE)


# ------------------------------------------------------------------ nonces


def issuer(clock: FakeClock, secret: bytes = b"k" * 32, lifetime: int = 30) -> NonceIssuer:
    return NonceIssuer(secret, lifetime, clock=clock)


def test_a_fresh_nonce_checks_for_its_realm_algorithm_and_qop() -> None:
    clock = FakeClock()
    nonces = issuer(clock)
    nonce = nonces.issue("example.com", MD5, Qop.AUTH)
    check = nonces.check(nonce, "EXAMPLE.com", MD5, "auth")
    assert check.status is NonceStatus.VALID
    assert check.issued == int(clock.now)


def test_nonces_differ_each_time() -> None:
    nonces = issuer(FakeClock())
    assert len({nonces.issue("r", MD5, Qop.AUTH) for _ in range(50)}) == 50


def test_a_nonce_goes_stale_after_its_lifetime() -> None:
    clock = FakeClock()
    nonces = issuer(clock, lifetime=30)
    nonce = nonces.issue("r", MD5, Qop.AUTH)
    clock.now += 30
    assert nonces.check(nonce, "r", MD5, "auth").status is NonceStatus.VALID
    clock.now += 1
    assert nonces.check(nonce, "r", MD5, "auth").status is NonceStatus.STALE


def test_a_nonce_from_another_secret_or_realm_is_invalid() -> None:
    clock = FakeClock()
    nonce = issuer(clock, secret=b"one").issue("r", MD5, Qop.AUTH)
    assert issuer(clock, secret=b"two").check(nonce, "r", MD5, "auth").status is (
        NonceStatus.INVALID
    )
    assert issuer(clock, secret=b"one").check(nonce, "other", MD5, "auth").status is (
        NonceStatus.INVALID
    )


def test_a_nonce_answered_with_another_algorithm_or_qop_is_invalid() -> None:
    nonces = issuer(FakeClock())
    nonce = nonces.issue("r", SHA256, Qop.AUTH)
    assert nonces.check(nonce, "r", MD5, "auth").status is NonceStatus.INVALID
    assert nonces.check(nonce, "r", SHA256, None).status is NonceStatus.INVALID
    assert nonces.check(nonce, "r", SHA256, "auth-int").status is NonceStatus.INVALID
    bare = nonces.issue("r", MD5, Qop.NONE)
    assert nonces.check(bare, "r", MD5, None).status is NonceStatus.VALID
    assert nonces.check(bare, "r", MD5, "auth").status is NonceStatus.INVALID


def test_pushing_the_timestamp_forward_breaks_the_seal() -> None:
    clock = FakeClock()
    nonces = issuer(clock)
    nonce = nonces.issue("r", MD5, Qop.AUTH)
    raw = bytearray(base64.urlsafe_b64decode(nonce))
    raw[7] ^= 0x40  # the low byte of the issue second
    forged = base64.urlsafe_b64encode(bytes(raw)).decode()
    assert nonces.check(forged, "r", MD5, "auth").status is NonceStatus.INVALID


@given(st.text(max_size=80))
def test_arbitrary_text_is_never_a_valid_nonce(text: str) -> None:
    nonces = issuer(FakeClock())
    assert nonces.check(text, "r", MD5, "auth").status is NonceStatus.INVALID


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        NonceIssuer(b"", 30)


# ------------------------------------------------------------------ replays


def test_each_nonce_count_is_accepted_once_and_reordering_is_tolerated() -> None:
    guard = ReplayGuard(window=8)
    now = 100.0
    assert guard.accept("n", 1, 90, 130, now)
    assert not guard.accept("n", 1, 90, 130, now)
    assert guard.accept("n", 3, 90, 130, now)
    assert guard.accept("n", 2, 90, 130, now)  # overtaken, not seen yet
    assert not guard.accept("n", 2, 90, 130, now)
    assert not guard.accept("n", 3, 90, 130, now)
    assert guard.accept("n", 20, 90, 130, now)
    assert not guard.accept("n", 4, 90, 130, now)  # fell out of the window
    assert guard.accept("other", 1, 90, 130, now)


def test_expired_entries_are_dropped() -> None:
    guard = ReplayGuard()
    guard.accept("a", 1, 0, 30, 10.0)
    guard.accept("b", 1, 20, 50, 25.0)
    assert len(guard) == 2
    guard.accept("c", 1, 40, 70, 45.0)
    assert len(guard) == 2  # "a" expired at 30


def test_a_full_table_refuses_nonces_older_than_what_it_evicted() -> None:
    guard = ReplayGuard(capacity=2)
    assert guard.accept("a", 1, 10, 100, 11.0)
    assert guard.accept("b", 1, 11, 100, 12.0)
    assert guard.accept("c", 1, 12, 100, 13.0)  # evicts "a", issued at 10
    assert len(guard) == 2
    assert not guard.accept("a", 1, 10, 100, 14.0)  # its history is gone: refused
    assert guard.accept("d", 1, 13, 100, 14.0)


# ------------------------------------------------------------------ credentials


def test_credentials_with_quoted_strings_escapes_and_tokens() -> None:
    creds = parse_credentials(
        'Digest username="al\\"ice@example.com", realm="example.com",'
        ' nonce="a,b", uri="sip:example.com", response="0123",'
        ' algorithm=SHA-256, cnonce="c", qop=auth, nc=00000001, opaque=""'
    )
    assert creds is not None
    assert creds.username == 'al"ice@example.com'
    assert creds.user == 'al"ice' and creds.domain == "example.com"
    assert creds.nonce == "a,b"
    assert creds.algorithm == "SHA-256" and creds.qop == "auth" and creds.nc == "00000001"
    assert creds.opaque == ""
    assert creds.is_complete()


def test_other_schemes_are_not_digest_and_broken_headers_raise() -> None:
    assert parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") is None
    for broken in (
        'Digest username="alice',
        "Digest username",
        'Digest username="a" x, realm="r"',
        'Digest realm="a", realm="b"',
    ):
        with pytest.raises(CredentialsError):
            parse_credentials(broken)


def test_qop_credentials_need_cnonce_and_nc() -> None:
    creds = parse_credentials(
        'Digest username="a", realm="r", nonce="n", uri="sip:r", response="x", qop=auth'
    )
    assert creds is not None and not creds.is_complete()
