"""Module `auth`: digest challenges, and authorization against passwords the script holds.

`www_challenge` / `proxy_challenge` answer 401 / 407 with one WWW-Authenticate /
Proxy-Authenticate header per algorithm; `pv_www_authorize` / `pv_proxy_authorize`
check the answer against the password (or HA1) in the variables named by the
`username_spec` / `password_spec` modparams. `auth_db` checks against the subscriber
table with the same two steps, `pre_authorize` and `finish_authorize`, as OpenSIPS's
auth_db calls into its auth module.

Nonces are stateless (see `runtime.core.digest`): sealed with the `secret` modparam, or
with a random secret drawn once per process when none is set, so several workers
behind one port need the same `secret` when a client may reach more than one of them.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from runtime.api import Ctx, RouteKind
from runtime.core.credentials import (
    AUTHORIZATION,
    PROXY_AUTHORIZATION,
    CredentialsError,
    CredentialsMark,
    DigestCredentials,
    find_credentials,
    forget_credentials,
    mark_credentials,
    marked_credentials,
    parse_credentials,
)
from runtime.core.digest import (
    MD5,
    Algorithm,
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
from runtime.core.pvaccess import PvError
from runtime.core.sipfields import parse_name_addr, parse_uri
from stdlib._modules import modparam_int, modparam_str
from stdlib._registry import export

log = logging.getLogger(__name__)


class AuthResult:
    """What the authorize functions return (OpenSIPS's auth_result_t), as plain ints:
    script values are exactly `int`, never a subclass."""

    AUTHORIZED: Final = 1
    ERROR: Final = 0
    """A 400 or 500 reply went out; the script stops."""
    USER_UNKNOWN: Final = -1
    INVALID_PASSWORD: Final = -2
    STALE_NONCE: Final = -3
    NO_CREDENTIALS: Final = -4


# ------------------------------------------------------------------ nonce state

_PROCESS_SECRET = secrets.token_bytes(32)
_clock: Callable[[], float] = time.time


@dataclass(slots=True)
class _NonceState:
    config: tuple[str | None, int, int]
    issuer: NonceIssuer
    replays: ReplayGuard | None


_state: _NonceState | None = None


def set_clock(clock: Callable[[], float]) -> None:
    """Use another time source for nonces (tests drive a fake clock with it)."""
    global _clock, _state
    _clock = clock
    _state = None


def _nonces() -> _NonceState:
    """The issuer and replay table for the current modparams (rebuilt when they change)."""
    global _state
    secret = modparam_str("auth", "secret")
    lifetime = modparam_int("auth", "nonce_expire")
    check_replays = 0 if modparam_int("auth", "disable_nonce_check") else 1
    config = (secret, lifetime, check_replays)
    if _state is None or _state.config != config:
        key = secret.encode() if secret else _PROCESS_SECRET
        _state = _NonceState(
            config,
            NonceIssuer(key, lifetime, clock=_clock),
            ReplayGuard() if check_replays else None,
        )
    return _state


# ------------------------------------------------------------------ realm and replies

_BAD_REQUEST = (400, "Bad Request")
_SERVER_ERROR = (500, "Server Internal Error")


def _reply_error(ctx: Ctx, reply: tuple[int, str]) -> int:
    ctx.send_reply(*reply)
    return AuthResult.ERROR


def _credentials_header(proxy: bool) -> str:
    return PROXY_AUTHORIZATION if proxy else AUTHORIZATION


def resolve_realm(ctx: Ctx, realm: str, proxy: bool) -> str | None:
    """The realm to use: as given, else the To host of a REGISTER checked with the
    Authorization header, else the From host, less the `realm_prefix` modparam."""
    if realm:
        return realm
    host = ctx.to_host if not proxy and ctx.method == "REGISTER" else ctx.from_host
    if not host:
        return None
    prefix = modparam_str("auth", "realm_prefix") or ""
    if prefix and host.startswith(prefix):
        host = host[len(prefix) :]
    return host


# ------------------------------------------------------------------ challenges


def parse_challenge_qop(text: str) -> Qop | None:
    """The qop argument: "auth", "auth-int", "auth,auth-int", "" (none); 2.x's "0"/"1"."""
    text = text.strip()
    if text in ("0", "1"):
        return Qop.AUTH if text == "1" else Qop.NONE
    return parse_qop_list(text)


def parse_algorithms(text: str) -> list[Algorithm] | None:
    """The algorithms argument, a comma list in order of preference; "" is MD5 alone."""
    chosen: list[Algorithm] = []
    for name in text.split(","):
        if not name.strip():
            continue
        algorithm = algorithm_named(name)
        if algorithm is None:
            return None
        if algorithm not in chosen:
            chosen.append(algorithm)
    return chosen or [MD5]


def challenge(ctx: Ctx, realm: str, qop: str, algorithms: str, proxy: bool) -> int:
    """Send 401 (www) or 407 (proxy) with one challenge header per algorithm."""
    msg = ctx.msg
    if not msg.is_request or msg.method == "ACK":
        return -1
    offered = parse_challenge_qop(qop)
    if offered is None:
        log.error("%s_challenge: unknown qop %r", "proxy" if proxy else "www", qop)
        return -1
    chosen = parse_algorithms(algorithms)
    if chosen is None:
        log.error("%s_challenge: unknown algorithm in %r", "proxy" if proxy else "www", algorithms)
        return -1
    resolved = resolve_realm(ctx, realm, proxy)
    if resolved is None:
        return _reply_error(ctx, _BAD_REQUEST)
    mark = marked_credentials(msg, _credentials_header(proxy))
    stale = mark is not None and mark.stale and mark.realm.lower() == resolved.lower()
    issuer = _nonces().issuer
    header = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
    lines = [
        f"{header}: "
        + build_challenge(resolved, issuer.issue(resolved, alg, offered), alg, offered, stale=stale)
        for alg in chosen
    ]
    if proxy:
        sent = ctx.send_reply(407, "Proxy Authentication Required", lines)
    else:
        sent = ctx.send_reply(401, "Unauthorized", lines)
    return AuthResult.ERROR if sent > 0 else -1


@export(routes=RouteKind.REQUEST, module="auth", may_exit=True)
def www_challenge(ctx: Ctx, realm: str, qop: str = "", algorithms: str = "") -> int:
    return challenge(ctx, realm, qop, algorithms, proxy=False)


@export(routes=RouteKind.REQUEST, module="auth", may_exit=True)
def proxy_challenge(ctx: Ctx, realm: str, qop: str = "", algorithms: str = "") -> int:
    return challenge(ctx, realm, qop, algorithms, proxy=True)


# ------------------------------------------------------------------ authorization


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """Credentials that passed every check that needs no password."""

    credentials: DigestCredentials
    realm: str
    algorithm: Algorithm
    issued: int
    mark: CredentialsMark


def pre_authorize(ctx: Ctx, realm: str, proxy: bool) -> PendingAuthorization | int:
    """Find and check the credentials for `realm`; a result code when there is nothing
    left to check (ACK and CANCEL pass, missing credentials, stale nonce, bad request)."""
    msg = ctx.msg
    if not msg.is_request:
        return AuthResult.NO_CREDENTIALS
    if msg.method in ("ACK", "CANCEL"):
        return AuthResult.AUTHORIZED  # neither can be challenged
    resolved = resolve_realm(ctx, realm, proxy)
    if resolved is None:
        return _reply_error(ctx, _BAD_REQUEST)
    header = _credentials_header(proxy)
    try:
        found = find_credentials(msg, header, resolved)
    except CredentialsError as exc:
        log.info("bad %s header: %s", header, exc)
        return _reply_error(ctx, _BAD_REQUEST)
    if found is None:
        return AuthResult.NO_CREDENTIALS
    index, creds = found
    algorithm = algorithm_named(creds.algorithm)
    well_formed = creds.is_complete() and algorithm is not None
    if well_formed and creds.qop:
        well_formed = parse_nc(creds.nc) is not None
    if not well_formed or algorithm is None:
        return _reply_error(ctx, _BAD_REQUEST)
    mark = CredentialsMark(header, index, creds, resolved)
    mark_credentials(msg, mark)
    assert creds.nonce is not None
    check = _nonces().issuer.check(creds.nonce, resolved, algorithm, creds.qop)
    if check.status is not NonceStatus.VALID:
        # only a nonce we minted may be called stale: a forged one gets a plain challenge
        mark.stale = check.status is NonceStatus.STALE
        return AuthResult.STALE_NONCE
    return PendingAuthorization(creds, resolved, algorithm, check.issued, mark)


def finish_authorize(ctx: Ctx, pending: PendingAuthorization, ha1: str) -> int:
    """Check the response against `ha1` (the plain H(user:realm:password) for the
    algorithm), then that this nonce count was not used before."""
    creds = pending.credentials
    assert creds.nonce is not None and creds.uri is not None and creds.response is not None
    if len(creds.response) != pending.algorithm.hex_length:
        return AuthResult.INVALID_PASSWORD
    expected = compute_response(
        pending.algorithm,
        ha1,
        nonce=creds.nonce,
        method=ctx.msg.method,
        uri=creds.uri,
        qop=creds.qop,
        nc=creds.nc,
        cnonce=creds.cnonce,
        body=ctx.msg.body,
    )
    if not responses_match(expected, creds.response):
        return AuthResult.INVALID_PASSWORD
    state = _nonces()
    if state.replays is not None:
        # without qop there is no count: such a nonce is good for one request
        count = parse_nc(creds.nc) if creds.qop else 1
        expires = pending.issued + state.issuer.lifetime
        if count is None or not state.replays.accept(
            creds.nonce, count, pending.issued, expires, state.issuer.clock()
        ):
            pending.mark.stale = True
            return AuthResult.STALE_NONCE
    pending.mark.authorized = True
    return AuthResult.AUTHORIZED


_VARIABLE = re.compile(r"^\$\(?([A-Za-z_][\w.]*)(?:\(([^()]*)\))?\)?$")


def read_variable(ctx: Ctx, spec: str) -> str | None:
    """Read the variable a modparam names (`$avp(pass)`, `$var(user)`) as text."""
    match = _VARIABLE.match(spec.strip())
    if match is None:
        raise PvError(f"`{spec}` is not a variable")
    value = ctx.pv_get(match.group(1), match.group(2))
    return None if value is None else str(value)


def pv_authorize(ctx: Ctx, realm: str, proxy: bool) -> int:
    pending = pre_authorize(ctx, realm, proxy)
    if not isinstance(pending, PendingAuthorization):
        return pending
    user_spec = modparam_str("auth", "username_spec")
    password_spec = modparam_str("auth", "password_spec")
    if not user_spec or not password_spec:
        log.error("pv_*_authorize needs the auth modparams username_spec and password_spec")
        return _reply_error(ctx, _SERVER_ERROR)
    try:
        username = read_variable(ctx, user_spec)
        password = read_variable(ctx, password_spec)
    except PvError as exc:
        log.error("pv_*_authorize: %s", exc)
        return _reply_error(ctx, _SERVER_ERROR)
    if not username or not password:
        return _reply_error(ctx, _SERVER_ERROR)
    creds = pending.credentials
    if username.lower() != (creds.username or "").lower():
        return AuthResult.USER_UNKNOWN
    if modparam_int("auth", "calculate_ha1"):
        ha1 = compute_ha1(pending.algorithm, creds.username or "", pending.realm, password)
    else:
        ha1 = password
    return finish_authorize(ctx, pending, ha1)


@export(routes=RouteKind.REQUEST, module="auth", may_exit=True)
def pv_www_authorize(ctx: Ctx, realm: str) -> int:
    return pv_authorize(ctx, realm, proxy=False)


@export(routes=RouteKind.REQUEST, module="auth", may_exit=True)
def pv_proxy_authorize(ctx: Ctx, realm: str) -> int:
    return pv_authorize(ctx, realm, proxy=True)


@export(routes=RouteKind.REQUEST, module="auth")
def consume_credentials(ctx: Ctx) -> int:
    """Remove the credentials header an authorize call checked (before relaying)."""
    mark = marked_credentials(ctx.msg)
    if mark is None:
        return -1
    current = ctx.msg.header(mark.header, mark.index)
    try:
        still_there = current is not None and parse_credentials(current) == mark.credentials
    except CredentialsError:
        still_there = False
    if not still_there or not ctx.msg.remove_header(mark.header, mark.index):
        return -1
    forget_credentials(ctx.msg)
    return 1


# ------------------------------------------------------------------ Remote-Party-ID


def _rpid(ctx: Ctx) -> str | None:
    """The RPID auth_db loaded (`load_credentials` column `rpid`) from the `rpid_avp`."""
    spec = modparam_str("auth", "rpid_avp")
    if not spec:
        return None
    try:
        return read_variable(ctx, spec)
    except PvError as exc:
        log.error("auth rpid_avp: %s", exc)
        return None


def _is_e164(user: str) -> bool:
    """`+` and 2 to 15 digits, as OpenSIPS checks it."""
    return user.startswith("+") and 2 <= len(user) - 1 <= 15 and user[1:].isdigit()


@export(routes=RouteKind.REQUEST, module="auth")
def is_rpid_user_e164(ctx: Ctx) -> int:
    """Whether the user part of the RPID URI is an E.164 number."""
    rpid = _rpid(ctx)
    if not rpid:
        return -1
    parts = parse_uri(parse_name_addr(rpid).uri)
    return 1 if parts is not None and parts.user and _is_e164(parts.user) else -1


@export(routes=RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.BRANCH, module="auth")
def append_rpid_hf(ctx: Ctx, prefix: str | None = None, suffix: str | None = None) -> int:
    """Add `Remote-Party-ID: <prefix><rpid><suffix>`; without arguments the `rpid_prefix`
    and `rpid_suffix` modparams frame it."""
    rpid = _rpid(ctx)
    if not rpid:
        return -1
    if prefix is None and suffix is None:
        prefix = modparam_str("auth", "rpid_prefix") or ""
        suffix = modparam_str("auth", "rpid_suffix") or ""
    ctx.append_header(f"Remote-Party-ID: {prefix or ''}{rpid}{suffix or ''}")
    return 1
