"""Digest authentication through the script functions (modules auth and auth_db).

Each test plays both sides: the proxy's functions on messages built with
`stdlib.testing`, and a user agent (below, written with hashlib only) that reads the
challenge the proxy sent and answers it as a phone would.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runtime.api import Ctx
from stdlib import REGISTRY, UNSUPPORTED, auth, auth_db
from stdlib._modules import set_modparam
from stdlib.auth import (
    append_rpid_hf,
    consume_credentials,
    is_rpid_user_e164,
    proxy_challenge,
    pv_proxy_authorize,
    pv_www_authorize,
    www_challenge,
)
from stdlib.auth_db import (
    db_does_uri_exist,
    db_get_auth_id,
    db_is_from_authorized,
    db_is_to_authorized,
    proxy_authorize,
    www_authorize,
)
from stdlib.testing import RecordingCore, context


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    auth.set_clock(fake)
    yield fake
    auth.set_clock(time.time)
    auth_db.close_databases()


# ------------------------------------------------------------------ the user agent

_PARAM = re.compile(r'([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')
_HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


@dataclass
class Challenge:
    header: str
    params: dict[str, str]

    @classmethod
    def parse(cls, line: str) -> Challenge:
        name, _, value = line.partition(":")
        scheme, _, rest = value.strip().partition(" ")
        assert scheme == "Digest"
        params = {m[1].lower(): m[2] if m[2] is not None else m[3] for m in _PARAM.finditer(rest)}
        return cls(name.strip(), params)


def answer(
    challenge: Challenge,
    username: str,
    password: str,
    method: str,
    uri: str,
    *,
    nc: int = 1,
    cnonce: str = "0a4f113b",
    body: bytes = b"",
    qop: str | None = None,
) -> str:
    """The Authorization / Proxy-Authorization line a phone sends back."""
    p = challenge.params
    algorithm = p.get("algorithm", "MD5")
    name = _HASHES[algorithm.removesuffix("-sess")]

    def h(data: str | bytes) -> str:
        raw = data.encode() if isinstance(data, str) else data
        return hashlib.new(name, raw).hexdigest()

    realm, nonce = p["realm"], p["nonce"]
    ha1 = h(f"{username}:{realm}:{password}")
    if algorithm.endswith("-sess"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    offered = [q.strip() for q in p.get("qop", "").split(",") if q.strip()]
    chosen = qop if qop is not None else (offered[0] if offered else None)
    ha2 = h(f"{method}:{uri}:{h(body)}") if chosen == "auth-int" else h(f"{method}:{uri}")
    if chosen:
        response = h(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{chosen}:{ha2}")
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")
    header = "Proxy-Authorization" if challenge.header == "Proxy-Authenticate" else "Authorization"
    value = (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", algorithm={algorithm}'
    )
    if chosen:
        value += f', qop={chosen}, nc={nc:08x}, cnonce="{cnonce}"'
    return f"{header}: {value}"


def register(*extra: str, user: str = "alice", domain: str = "example.com") -> str:
    lines = "".join(f"{line}\n" for line in extra)
    return (
        f"REGISTER sip:{domain} SIP/2.0\n"
        "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKreg1\n"
        "Max-Forwards: 70\n"
        f"From: <sip:{user}@{domain}>;tag=r1\n"
        f"To: <sip:{user}@{domain}>\n"
        "Call-ID: reg-1@198.51.100.7\n"
        "CSeq: 1 REGISTER\n"
        "Contact: <sip:alice@198.51.100.7:5062>\n"
        f"{lines}"
        "Content-Length: 0\n\n"
    )


def invite(*extra: str, method: str = "INVITE", body: str = "") -> str:
    lines = "".join(f"{line}\n" for line in extra)
    return (
        f"{method} sip:bob@example.net SIP/2.0\n"
        "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKinv1\n"
        "Max-Forwards: 70\n"
        "From: <sip:alice@example.com>;tag=i1\n"
        "To: <sip:bob@example.net>\n"
        "Call-ID: inv-1@198.51.100.7\n"
        f"CSeq: 1 {method}\n"
        f"{lines}"
        f"Content-Length: {len(body)}\n\n{body}"
    )


def challenges(services: RecordingCore, reply: int = -1) -> list[Challenge]:
    return [Challenge.parse(line) for line in services.reply_headers[reply]]


def use_password_vars(ctx: Ctx, user: str = "alice", password: str = "s3cret") -> None:
    ctx.var_set("user", user)
    ctx.var_set("pass", password)


@pytest.fixture
def pv_auth() -> None:
    set_modparam("auth", "username_spec", "$var(user)")
    set_modparam("auth", "password_spec", "$var(pass)")
    set_modparam("auth", "calculate_ha1", 1)


def first_challenge(text: str, qop: str = "auth", algorithms: str = "") -> Challenge:
    ctx, services = context(text)
    assert www_challenge(ctx, "", qop, algorithms) == 0
    return challenges(services)[0]


# ------------------------------------------------------------------ auth: pv_* functions


@pytest.mark.usefixtures("pv_auth")
def test_register_round_trip_with_script_passwords() -> None:
    ctx, services = context(register())
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == -4
    assert www_challenge(ctx, "", "auth") == 0
    assert services.replies == [(401, "Unauthorized")]
    (challenge,) = challenges(services)
    assert challenge.header == "WWW-Authenticate"
    assert challenge.params["realm"] == "example.com"  # the To host of a REGISTER
    assert challenge.params["qop"] == "auth" and challenge.params["algorithm"] == "MD5"
    assert "stale" not in challenge.params

    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, services = context(register(line))
    use_password_vars(ctx)
    result = pv_www_authorize(ctx, "")
    assert result == 1 and type(result) is int  # a script value, not an enum
    assert services.replies == []
    assert ctx.pv_get("au") == "alice"
    assert ctx.pv_get("ar") == "example.com"
    assert ctx.pv_get("an") == ctx.pv_get("auth.nonce") == challenge.params["nonce"]
    assert ctx.pv_get("adu") == "sip:example.com"
    assert ctx.pv_get("auth.qop") == "auth" and ctx.pv_get("auth.nc") == "00000001"
    assert ctx.pv_get("ad") is None
    assert ctx.pv_get("Au") == "alice@example.com"


@pytest.mark.usefixtures("pv_auth")
def test_wrong_password_and_unknown_user() -> None:
    challenge = first_challenge(register())
    line = answer(challenge, "alice", "guess", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == -2

    line = answer(challenge, "mallory", "s3cret", "REGISTER", "sip:example.com", nc=2)
    ctx, _ = context(register(line, user="mallory"))
    use_password_vars(ctx)  # the script found alice's password, not mallory's
    assert pv_www_authorize(ctx, "") == -1


@pytest.mark.usefixtures("pv_auth")
def test_stored_ha1_instead_of_a_password() -> None:
    set_modparam("auth", "calculate_ha1", 0)
    challenge = first_challenge(register())
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    use_password_vars(ctx, password=hashlib.md5(b"alice:example.com:s3cret").hexdigest())
    assert pv_www_authorize(ctx, "") == 1


@pytest.mark.usefixtures("pv_auth")
def test_an_expired_nonce_is_stale_and_the_next_challenge_says_so(clock: FakeClock) -> None:
    challenge = first_challenge(register())
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    clock.now += 31  # nonce_expire is 30 s by default
    ctx, services = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == -3
    assert www_challenge(ctx, "", "auth") == 0
    (again,) = challenges(services)
    assert again.params["stale"] == "true"
    assert again.params["nonce"] != challenge.params["nonce"]

    line = answer(again, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == 1


@pytest.mark.usefixtures("pv_auth")
def test_nonce_expire_modparam(clock: FakeClock) -> None:
    set_modparam("auth", "nonce_expire", 300)
    challenge = first_challenge(register())
    clock.now += 120
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == 1


@pytest.mark.usefixtures("pv_auth")
def test_a_forged_nonce_is_refused_without_stale() -> None:
    challenge = first_challenge(register())
    raw = bytearray(base64.urlsafe_b64decode(challenge.params["nonce"]))
    raw[7] ^= 0x01  # move the issue second, keep the seal
    challenge.params["nonce"] = base64.urlsafe_b64encode(bytes(raw)).decode()
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, services = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == -3
    assert www_challenge(ctx, "", "auth") == 0
    assert "stale" not in challenges(services)[0].params


@pytest.mark.usefixtures("pv_auth")
def test_a_nonce_from_another_secret_is_refused() -> None:
    set_modparam("auth", "secret", "first-secret")
    challenge = first_challenge(register())
    set_modparam("auth", "secret", "second-secret")
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == -3


@pytest.mark.usefixtures("pv_auth")
def test_a_replayed_request_is_stale_and_a_new_count_passes() -> None:
    challenge = first_challenge(register())
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == 1

    replay, services = context(register(line))
    use_password_vars(replay)
    assert pv_www_authorize(replay, "") == -3
    assert www_challenge(replay, "", "auth") == 0
    assert challenges(services)[0].params["stale"] == "true"

    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com", nc=2)
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == 1


@pytest.mark.usefixtures("pv_auth")
def test_disable_nonce_check_lets_a_count_repeat() -> None:
    set_modparam("auth", "disable_nonce_check", 1)
    challenge = first_challenge(register())
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    for _ in range(2):
        ctx, _services = context(register(line))
        use_password_vars(ctx)
        assert pv_www_authorize(ctx, "") == 1


@pytest.mark.usefixtures("pv_auth")
def test_without_qop_a_nonce_serves_one_request() -> None:
    challenge = first_challenge(register(), qop="")
    assert "qop" not in challenge.params
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == 1
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == -3


@pytest.mark.usefixtures("pv_auth")
def test_dropping_qop_from_a_qop_challenge_is_refused() -> None:
    challenge = first_challenge(register(), qop="auth")
    del challenge.params["qop"]
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "") == -3


@pytest.mark.usefixtures("pv_auth")
def test_proxy_auth_int_on_a_message_with_a_body() -> None:
    body = "hello bob"
    ctx, services = context(invite(method="MESSAGE", body=body))
    assert pv_proxy_authorize(ctx, "") == -4
    assert proxy_challenge(ctx, "", "auth-int") == 0
    assert services.replies == [(407, "Proxy Authentication Required")]
    (challenge,) = challenges(services)
    assert challenge.header == "Proxy-Authenticate"
    assert challenge.params["realm"] == "example.com"  # the From host
    line = answer(
        challenge, "alice", "s3cret", "MESSAGE", "sip:bob@example.net", body=body.encode()
    )
    ctx, _ = context(invite(line, method="MESSAGE", body=body))
    use_password_vars(ctx)
    assert pv_proxy_authorize(ctx, "") == 1
    tampered, _ = context(invite(line, method="MESSAGE", body="hello eve"))
    use_password_vars(tampered)
    assert pv_proxy_authorize(tampered, "") == -2


@pytest.mark.usefixtures("pv_auth")
def test_consume_credentials_removes_the_checked_header() -> None:
    ctx, services = context(invite())
    assert proxy_challenge(ctx, "example.com", "auth") == 0
    (challenge,) = challenges(services)
    line = answer(challenge, "alice", "s3cret", "INVITE", "sip:bob@example.net")
    other = 'Proxy-Authorization: Digest username="a", realm="elsewhere", nonce="x", uri="u", response="r"'
    ctx, _ = context(invite(other, line))
    use_password_vars(ctx)
    assert consume_credentials(ctx) == -1  # nothing checked yet
    assert pv_proxy_authorize(ctx, "example.com") == 1
    assert consume_credentials(ctx) == 1
    remaining = ctx.msg.headers_named("Proxy-Authorization")
    assert len(remaining) == 1 and 'realm="elsewhere"' in remaining[0]
    assert b'example.com", nonce' not in ctx.msg.to_bytes()
    assert consume_credentials(ctx) == -1


def test_ack_and_cancel_always_pass() -> None:
    for method in ("ACK", "CANCEL"):
        ctx, services = context(invite(method=method))
        assert pv_proxy_authorize(ctx, "") == 1
        assert services.replies == []


@pytest.mark.usefixtures("pv_auth")
def test_malformed_credentials_get_400_and_stop_the_script() -> None:
    ctx, services = context(register('Authorization: Digest username="alice, realm="x'))
    use_password_vars(ctx)
    assert pv_www_authorize(ctx, "x") == 0
    assert services.replies == [(400, "Bad Request")]
    incomplete = 'Authorization: Digest username="alice", realm="example.com", uri="sip:x"'
    ctx, services = context(register(incomplete))
    assert pv_www_authorize(ctx, "") == 0
    assert services.replies == [(400, "Bad Request")]


def test_pv_authorize_without_its_modparams_is_a_server_error() -> None:
    challenge = first_challenge(register())
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, services = context(register(line))
    assert pv_www_authorize(ctx, "") == 0
    assert services.replies == [(500, "Server Internal Error")]


def test_challenge_arguments() -> None:
    ctx, services = context(register())
    assert www_challenge(ctx, "", "auth,auth-int", "SHA-256,MD5") == 0
    offered = challenges(services)
    assert [c.params["algorithm"] for c in offered] == ["SHA-256", "MD5"]
    assert offered[0].params["qop"] == "auth,auth-int"
    assert offered[0].params["nonce"] != offered[1].params["nonce"]
    assert www_challenge(ctx, "", "1") == 0  # the 2.x spelling of "auth"
    assert challenges(services)[0].params["qop"] == "auth"
    assert www_challenge(ctx, "", "auth", "SHA-1") == -1
    assert www_challenge(ctx, "", "auth-conf") == -1
    assert len(services.replies) == 2


def test_realm_prefix_is_stripped_from_a_derived_realm() -> None:
    set_modparam("auth", "realm_prefix", "sip.")
    ctx, services = context(register(domain="sip.example.org"))
    assert www_challenge(ctx, "", "auth") == 0
    assert challenges(services)[0].params["realm"] == "example.org"
    ctx, services = context(register(domain="sip.example.org"))
    assert www_challenge(ctx, "sip.example.org", "auth") == 0
    assert challenges(services)[0].params["realm"] == "sip.example.org"


def test_registry_metadata() -> None:
    for name in ("www_challenge", "proxy_challenge", "pv_www_authorize", "www_authorize"):
        assert REGISTRY[name].may_exit
        assert name not in UNSUPPORTED
    assert REGISTRY["www_challenge"].min_args == 1 and REGISTRY["www_challenge"].max_args == 3
    assert REGISTRY["www_authorize"].module == "auth_db"
    assert not REGISTRY["consume_credentials"].may_exit


# ------------------------------------------------------------------ auth_db: subscriber table

SUBSCRIBER_SCHEMA = """
CREATE TABLE version (table_name CHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_t_name_idx UNIQUE (table_name));
CREATE TABLE subscriber (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username CHAR(64) DEFAULT '' NOT NULL, domain CHAR(64) DEFAULT '' NOT NULL,
    password CHAR(25) DEFAULT '' NOT NULL, email_address CHAR(64),
    ha1 CHAR(64) DEFAULT '' NOT NULL, ha1_sha256 CHAR(64) DEFAULT '' NOT NULL,
    ha1_sha512t256 CHAR(64) DEFAULT '' NOT NULL,
    CONSTRAINT subscriber_account_idx UNIQUE (username, domain));
CREATE INDEX subscriber_username_idx ON subscriber (username);
"""


def add_subscriber(db: sqlite3.Connection, user: str, domain: str, password: str) -> None:
    secret = f"{user}:{domain}:{password}".encode()
    db.execute(
        "INSERT INTO subscriber (username, domain, password, email_address, ha1, ha1_sha256,"
        " ha1_sha512t256) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            user,
            domain,
            password,
            f"{user}@{domain}",
            hashlib.md5(secret).hexdigest(),
            hashlib.sha256(secret).hexdigest(),
            hashlib.new("sha512_256", secret).hexdigest(),
        ),
    )


@pytest.fixture
def subscribers(tmp_path: Path) -> Path:
    path = tmp_path / "opensips.db"
    with sqlite3.connect(path) as db:
        db.executescript(SUBSCRIBER_SCHEMA)
        db.execute("INSERT INTO version VALUES ('subscriber', 8)")
        add_subscriber(db, "alice", "example.com", "s3cret")
        add_subscriber(db, "alice", "example.org", "other")
        add_subscriber(db, "bob", "example.net", "b0b")
    db.close()
    set_modparam("auth_db", "db_url", f"sqlite://{path}")
    set_modparam("auth_db", "load_credentials", "")
    return path


@pytest.mark.usefixtures("subscribers")
@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512-256", "SHA-256-sess"])
def test_www_authorize_against_the_stored_hashes(algorithm: str) -> None:
    ctx, services = context(register())
    assert www_authorize(ctx, "", "subscriber") == -4
    assert www_challenge(ctx, "", "auth", algorithm) == 0
    (challenge,) = challenges(services)
    assert challenge.params["algorithm"] == algorithm
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, services = context(register(line))
    assert www_authorize(ctx, "", "subscriber") == 1
    assert services.replies == []


@pytest.mark.usefixtures("subscribers")
def test_the_client_picks_sha256_from_two_challenges() -> None:
    ctx, services = context(register())
    assert www_challenge(ctx, "", "auth", "SHA-256,MD5") == 0
    sha, md5 = challenges(services)
    line = answer(sha, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    assert www_authorize(ctx, "", "subscriber") == 1
    # an answer that claims MD5 on the SHA-256 nonce is not accepted
    sha.params["algorithm"] = "MD5"
    line = answer(sha, "alice", "s3cret", "REGISTER", "sip:example.com", nc=2)
    ctx, _ = context(register(line))
    assert www_authorize(ctx, "", "subscriber") == -3
    assert md5.params["nonce"] != sha.params["nonce"]


@pytest.mark.usefixtures("subscribers")
def test_db_wrong_password_unknown_user_and_use_domain() -> None:
    challenge = first_challenge(register())
    line = answer(challenge, "alice", "other", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    assert www_authorize(ctx, "", "subscriber") == -2  # alice@example.org's password

    line = answer(challenge, "carol", "x", "REGISTER", "sip:example.com", nc=2)
    ctx, _ = context(register(line, user="carol"))
    assert www_authorize(ctx, "", "subscriber") == -1

    set_modparam("auth_db", "use_domain", 1)
    challenge = first_challenge(register(domain="example.org"))
    line = answer(challenge, "alice", "other", "REGISTER", "sip:example.org")
    ctx, _ = context(register(line, domain="example.org"))
    assert www_authorize(ctx, "", "subscriber") == 1


@pytest.mark.usefixtures("subscribers")
def test_calculate_ha1_reads_the_plain_password() -> None:
    set_modparam("auth_db", "calculate_ha1", 1)
    set_modparam("auth_db", "password_column", "password")
    set_modparam("auth_db", "use_domain", 1)
    challenge = first_challenge(register(), algorithms="SHA-256")
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, _ = context(register(line))
    assert www_authorize(ctx, "", "subscriber") == 1


@pytest.mark.usefixtures("subscribers")
def test_proxy_authorize_loads_credentials_and_checks_identities() -> None:
    set_modparam("auth_db", "load_credentials", "$avp(mail)=email_address;rpid")
    ctx, services = context(invite())
    assert proxy_challenge(ctx, "", "auth") == 0
    (challenge,) = challenges(services)
    assert db_is_from_authorized(ctx, "subscriber") == -2  # nothing authorized yet
    line = answer(challenge, "alice", "s3cret", "INVITE", "sip:bob@example.net")
    ctx, services = context(invite(line))
    assert proxy_authorize(ctx, "", "subscriber") == 1
    assert ctx.avp_get("mail") == "alice@example.com"
    assert ctx.avp_get("rpid") is None  # no such column in the 3.6 table: skipped
    assert db_is_from_authorized(ctx, "subscriber") == 1
    assert db_is_to_authorized(ctx, "subscriber") == -9  # To is bob
    assert consume_credentials(ctx) == 1
    assert ctx.msg.header("Proxy-Authorization") is None


@pytest.mark.usefixtures("subscribers")
def test_db_does_uri_exist() -> None:
    ctx, _ = context(invite())
    assert db_does_uri_exist(ctx, "sip:bob@example.net", "subscriber") == 1
    assert db_does_uri_exist(ctx, "sip:carol@example.net", "subscriber") == -5
    assert db_does_uri_exist(ctx, "sip:example.net", "subscriber") == -1
    assert db_does_uri_exist(ctx, "sip:bob@example.net", "no_such_table") == -4
    set_modparam("auth_db", "use_domain", 1)
    assert db_does_uri_exist(ctx, "sip:bob@example.com", "subscriber") == -5


def test_an_out_of_date_table_or_a_missing_file_is_a_500(subscribers: Path) -> None:
    with sqlite3.connect(subscribers) as db:
        db.execute("UPDATE version SET table_version = 7 WHERE table_name = 'subscriber'")
    db.close()
    challenge = first_challenge(register())
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com")
    ctx, services = context(register(line))
    assert www_authorize(ctx, "", "subscriber") == 0
    assert services.replies == [(500, "Server Internal Error")]

    auth_db.close_databases()
    set_modparam("auth_db", "skip_version_check", 1)
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com", nc=2)
    ctx, _ = context(register(line))
    assert www_authorize(ctx, "", "subscriber") == 1

    set_modparam("auth_db", "db_url", f"sqlite://{subscribers.parent / 'missing.db'}")
    line = answer(challenge, "alice", "s3cret", "REGISTER", "sip:example.com", nc=3)
    ctx, services = context(register(line))
    assert www_authorize(ctx, "", "subscriber") == 0
    assert services.replies == [(500, "Server Internal Error")]
    assert not (subscribers.parent / "missing.db").exists()


# ------------------------------------------------------------------ Remote-Party-ID


def test_rpid_checks_and_header() -> None:
    ctx, _ = context(invite())
    assert is_rpid_user_e164(ctx) == -1  # no RPID loaded
    assert append_rpid_hf(ctx) == -1
    ctx.avp_push("rpid", "<sip:+4930123456@example.com>")
    assert is_rpid_user_e164(ctx) == 1
    assert append_rpid_hf(ctx) == 1
    assert ctx.msg.header("Remote-Party-ID") == (
        "<sip:+4930123456@example.com>;party=calling;id-type=subscriber;screen=yes"
    )
    ctx, _ = context(invite())
    ctx.avp_push("rpid", "sip:alice@example.com")
    assert is_rpid_user_e164(ctx) == -1
    assert append_rpid_hf(ctx, '"Alice" <', ">;party=calling") == 1
    assert ctx.msg.header("Remote-Party-ID") == '"Alice" <sip:alice@example.com>;party=calling'
    ctx.avp_assign("rpid", "sip:+1@example.com")  # too short for E.164
    assert is_rpid_user_e164(ctx) == -1


@pytest.fixture
def uri_table(subscribers: Path) -> Path:
    with sqlite3.connect(subscribers) as db:
        db.execute(
            "CREATE TABLE uri (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,"
            " username CHAR(64) DEFAULT '' NOT NULL, domain CHAR(64) DEFAULT '' NOT NULL,"
            " uri_user CHAR(64) DEFAULT '' NOT NULL, last_modified DATETIME)"
        )
        db.execute("INSERT INTO uri (username, domain, uri_user) VALUES"
                   " ('alice', 'example.com', '+4930123'), ('bob', 'example.net', '+4930999'),"
                   " ('carol', 'example.org', '+4930999')")  # fmt: skip
    db.close()
    return subscribers


class Slot:
    def __init__(self) -> None:
        self.value: object = None

    def set(self, value: object) -> None:
        self.value = value


@pytest.mark.usefixtures("uri_table")
def test_db_get_auth_id_finds_the_auth_user_and_realm_of_a_uri() -> None:
    ctx, _ = context(invite())
    auth, realm = Slot(), Slot()
    assert db_get_auth_id(ctx, "uri", "sip:+4930123@gw.example", auth, realm) == 1
    assert (auth.value, realm.value) == ("alice", "example.com")
    assert db_get_auth_id(ctx, "uri", "sip:+49000@gw.example", auth, realm) == -4
    assert db_get_auth_id(ctx, "uri", "sip:gw.example", auth, realm) == -1
    assert db_get_auth_id(ctx, "nosuchtable", "sip:+4930123@gw.example", auth, realm) == -8
    # two rows: the first one, unless use_domain narrows it to the URI's host
    assert db_get_auth_id(ctx, "uri", "sip:+4930999@example.org", auth, realm) == 1
    assert auth.value == "bob"
    set_modparam("auth_db", "use_domain", 1)
    assert db_get_auth_id(ctx, "uri", "sip:+4930999@example.org", auth, realm) == 1
    assert (auth.value, realm.value) == ("carol", "example.org")
    assert db_get_auth_id(ctx, "uri", "sip:+4930123@gw.example", auth, realm) == -4


@pytest.mark.usefixtures("uri_table")
def test_a_name_with_octets_that_are_not_utf8_is_in_no_table() -> None:
    # Messages are decoded with surrogateescape; SQLite takes text as UTF-8 only.
    ctx, _ = context(invite())
    assert db_does_uri_exist(ctx, "sip:b\udcdeob@example.net", "subscriber") == -5
    auth, realm = Slot(), Slot()
    assert db_get_auth_id(ctx, "uri", "sip:+49\udcff30123@gw.example", auth, realm) == -4
    assert auth.value is None
