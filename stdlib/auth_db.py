"""Module `auth_db`: digest authorization against OpenSIPS's `subscriber` table.

The table and its modparams are OpenSIPS's (spec/storage.md): `username`, `domain`, and
the secret in `password_column` (HA1 for MD5 by default, or a plain password with
`calculate_ha1`), `hash_column_sha256` and `hash_column_sha512t256` for the RFC 8760
algorithms. Only `sqlite:///path` URLs are served; the file is opened read-only once and
kept. A lookup is one indexed SQLite read on a local file, a few microseconds, so it runs
inline rather than in a thread.

Unlike OpenSIPS, a `load_credentials` column the table lacks (the default `rpid` is not
in the 3.6 schema) is skipped with one warning instead of failing every lookup.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field

from runtime.api import Ctx, RouteKind
from runtime.core.credentials import marked_credentials
from runtime.core.digest import Algorithm, compute_ha1
from runtime.core.sipfields import parse_uri
from stdlib._modules import modparam_int, modparam_str
from stdlib._registry import Out, export
from stdlib.auth import (
    AuthResult,
    PendingAuthorization,
    finish_authorize,
    pre_authorize,
)

log = logging.getLogger(__name__)

SUBSCRIBER_TABLE_VERSION = 8
_SQLITE_PREFIX = "sqlite://"
_SERVER_ERROR = (500, "Server Internal Error")


class SubscriberDbError(Exception):
    """The database cannot answer: bad URL, missing file or table, wrong version."""


def sqlite_path(db_url: str) -> str:
    """`sqlite:///abs/file.db` -> `/abs/file.db`."""
    if not db_url.startswith(_SQLITE_PREFIX) or len(db_url) == len(_SQLITE_PREFIX):
        raise SubscriberDbError(
            f"`{db_url}` is not a sqlite:///path URL (the only kind sipc serves)"
        )
    return db_url[len(_SQLITE_PREFIX) :]


def _identifier(name: str) -> str:
    """A column or table name from a modparam, quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(slots=True)
class SubscriberDb:
    """One read-only connection to a subscriber database, and what it learned about it."""

    path: str
    connection: sqlite3.Connection
    columns: dict[str, frozenset[str]] = field(default_factory=dict)
    warned: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def open(cls, db_url: str) -> SubscriberDb:
        path = sqlite_path(db_url)
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise SubscriberDbError(f"cannot open `{path}`: {exc}") from exc
        return cls(path, connection)

    def table_columns(self, table: str) -> frozenset[str]:
        """The table's columns, once its version was checked (as OpenSIPS does at start)."""
        known = self.columns.get(table)
        if known is not None:
            return known
        try:
            rows = self.connection.execute(f"PRAGMA table_info({_identifier(table)})").fetchall()
        except sqlite3.Error as exc:
            raise SubscriberDbError(f"cannot read table `{table}` in `{self.path}`: {exc}") from exc
        if not rows:
            raise SubscriberDbError(f"`{self.path}` has no table `{table}`")
        if not modparam_int("auth_db", "skip_version_check"):
            self._check_version(table)
        known = self.columns[table] = frozenset(str(row[1]) for row in rows)
        return known

    def _check_version(self, table: str) -> None:
        try:
            row = self.connection.execute(
                "SELECT table_version FROM version WHERE table_name = ?", (table,)
            ).fetchone()
        except sqlite3.Error:
            row = None
        version = row[0] if row is not None else None
        if version != SUBSCRIBER_TABLE_VERSION:
            found = "no row in `version`" if version is None else f"version {version}"
            raise SubscriberDbError(
                f"table `{table}` in `{self.path}` has {found}, sipc expects version "
                f"{SUBSCRIBER_TABLE_VERSION} (OpenSIPS 3.x); set auth_db skip_version_check "
                "to use it anyway"
            )

    def lookup(
        self, table: str, user: str, domain: str | None, columns: list[str]
    ) -> tuple[object, ...] | None:
        """The first row for user (and domain, when given): the values of `columns`."""
        wanted = ", ".join(_identifier(column) for column in columns)
        sql = f"SELECT {wanted} FROM {_identifier(table)} WHERE {_identifier(_user_column())} = ?"
        args: tuple[str, ...] = (user,)
        if domain is not None:
            sql += f" AND {_identifier(_domain_column())} = ?"
            args = (user, domain)
        if not storable(*args):
            return None
        try:
            row: tuple[object, ...] | None = self.connection.execute(
                sql + " LIMIT 1", args
            ).fetchone()
        except sqlite3.Error as exc:
            raise SubscriberDbError(f"query on `{table}` failed: {exc}") from exc
        return row


def storable(*keys: str) -> bool:
    """Whether SQLite can be asked for these keys: it takes text as UTF-8, and a name out
    of a message may hold octets that are not (decoded as surrogates). Such a name is in
    no table of UTF-8 text: the lookup finds nothing."""
    try:
        for key in keys:
            key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_databases: dict[str, SubscriberDb] = {}


def subscriber_db() -> SubscriberDb:
    """The connection for the configured `db_url`, opened on first use."""
    db_url = modparam_str("auth_db", "db_url")
    if not db_url:
        raise SubscriberDbError("auth_db needs modparam db_url (sqlite:///path/to/file.db)")
    db = _databases.get(db_url)
    if db is None:
        db = _databases[db_url] = SubscriberDb.open(db_url)
    return db


def close_databases() -> None:
    """Close every cached connection (tests, and a script reload)."""
    for db in _databases.values():
        db.connection.close()
    _databases.clear()


def _user_column() -> str:
    return modparam_str("auth_db", "user_column") or "username"


def _domain_column() -> str:
    return modparam_str("auth_db", "domain_column") or "domain"


def _secret_column(algorithm: Algorithm) -> str:
    """Where the secret for this algorithm is: the plain password when HA1 is calculated."""
    if not modparam_int("auth_db", "calculate_ha1"):
        if algorithm.base_name == "SHA-256":
            return modparam_str("auth_db", "hash_column_sha256") or "ha1_sha256"
        if algorithm.base_name == "SHA-512-256":
            return modparam_str("auth_db", "hash_column_sha512t256") or "ha1_sha512t256"
    return modparam_str("auth_db", "password_column") or "ha1"


def credential_columns(spec: str) -> list[tuple[str, str]]:
    """`load_credentials`: `"$avp(x)=col;col2"` -> [("x", "col"), ("col2", "col2")]."""
    pairs: list[tuple[str, str]] = []
    for item in spec.split(";"):
        item = item.strip()
        if not item:
            continue
        target, sep, column = item.partition("=")
        if not sep:
            pairs.append((item, item))
            continue
        name = target.strip()
        if name.startswith("$avp(") and name.endswith(")"):
            name = name[len("$avp(") : -1]
        name = name.removeprefix("s:")
        pairs.append((name, column.strip()))
    return pairs


def _loadable(db: SubscriberDb, table: str, columns: frozenset[str]) -> list[tuple[str, str]]:
    spec = modparam_str("auth_db", "load_credentials") or ""
    chosen = []
    for avp, column in credential_columns(spec):
        if column in columns:
            chosen.append((avp, column))
        elif (table, column) not in db.warned:
            db.warned.add((table, column))
            log.warning("auth_db load_credentials: table `%s` has no column `%s`", table, column)
    return chosen


def authorize(ctx: Ctx, realm: str, table: str, proxy: bool) -> int:
    pending = pre_authorize(ctx, realm, proxy)
    if not isinstance(pending, PendingAuthorization):
        return pending
    creds = pending.credentials
    user = creds.user or ""
    domain = creds.domain or pending.realm
    secret_column = _secret_column(pending.algorithm)
    try:
        db = subscriber_db()
        columns = db.table_columns(table)
        if secret_column not in columns:
            raise SubscriberDbError(f"table `{table}` has no column `{secret_column}`")
        extras = _loadable(db, table, columns)
        row = db.lookup(
            table,
            user,
            domain if modparam_int("auth_db", "use_domain") else None,
            [secret_column, *(column for _avp, column in extras)],
        )
    except SubscriberDbError as exc:
        log.error("auth_db: %s", exc)
        ctx.send_reply(*_SERVER_ERROR)
        return AuthResult.ERROR
    if row is None:
        return AuthResult.USER_UNKNOWN
    secret = row[0] if isinstance(row[0], str) else ""
    if modparam_int("auth_db", "calculate_ha1"):
        ha1 = compute_ha1(pending.algorithm, creds.username or "", pending.realm, secret)
    else:
        ha1 = secret
    result = finish_authorize(ctx, pending, ha1)
    if result == AuthResult.AUTHORIZED:
        for (avp, _column), value in zip(extras, row[1:], strict=True):
            if isinstance(value, (int, str)) and value != "":
                ctx.avp.push(avp, value)
    return result


@export(routes=RouteKind.REQUEST, module="auth_db", may_exit=True)
def www_authorize(ctx: Ctx, realm: str, table: str) -> int:
    return authorize(ctx, realm, table, proxy=False)


@export(routes=RouteKind.REQUEST, module="auth_db", may_exit=True)
def proxy_authorize(ctx: Ctx, realm: str, table: str) -> int:
    return authorize(ctx, realm, table, proxy=True)


@export(routes=RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.LOCAL, module="auth_db")
def db_does_uri_exist(ctx: Ctx, uri: str, table: str) -> int:
    """1 when the URI's user (and host, with use_domain) is a subscriber, else -5."""
    parts = parse_uri(uri) if uri else None
    if parts is None or not parts.user:
        return -1
    domain = parts.host if modparam_int("auth_db", "use_domain") else None
    try:
        db = subscriber_db()
        db.table_columns(table)
        row = db.lookup(table, parts.user, domain, [_user_column()])
    except SubscriberDbError as exc:
        log.error("auth_db: %s", exc)
        return -4
    return 1 if row is not None else -5


def _is_uri_authorized(ctx: Ctx, uri: str | None) -> int:
    """Whether the authorized credentials' user is the user of `uri` (2.x check_to/from)."""
    mark = marked_credentials(ctx.msg)
    if mark is None or not mark.authorized:
        return -2
    parts = parse_uri(uri) if uri else None
    if parts is None or not parts.user:
        return -1
    if (mark.credentials.user or "").lower() != parts.user.lower():
        return -9
    if modparam_int("auth_db", "use_domain") and mark.realm.lower() != parts.host.lower():
        return -9
    return 1


@export(routes=RouteKind.REQUEST, module="auth_db")
def db_is_to_authorized(ctx: Ctx, table: str) -> int:
    return _is_uri_authorized(ctx, ctx.to_uri)


@export(routes=RouteKind.REQUEST, module="auth_db")
def db_is_from_authorized(ctx: Ctx, table: str) -> int:
    return _is_uri_authorized(ctx, ctx.from_uri)


# ------------------------------------------------------------------ the uri table


def _uri_column(param: str, default: str) -> str:
    """uri_user_column, uri_domain_column, uri_uriuser_column (OpenSIPS's defaults)."""
    return modparam_str("auth_db", param) or default


@export(routes=RouteKind.REQUEST | RouteKind.FAILURE | RouteKind.LOCAL, module="auth_db")
def db_get_auth_id(ctx: Ctx, table: str, uri: str, auth: Out[str], realm: Out[str]) -> int:
    """The authentication user and realm of a URI, from an OpenSIPS `uri`-like table:
    the row whose `uri_user` is the URI's user (and whose `domain` is its host, with
    use_domain) gives `username` and `domain`. 1; -1 no user in the URI; -3 the columns
    are not text; -4 no such row; -8 the query failed. With several rows the first one
    is used, with a warning (set use_domain), as in OpenSIPS."""
    parts = parse_uri(uri) if uri else None
    if parts is None or not parts.user:
        log.error("db_get_auth_id: %r is not a URI with a user", uri)
        return -1
    user_col = _identifier(_uri_column("uri_user_column", "username"))
    domain_col = _identifier(_uri_column("uri_domain_column", "domain"))
    key_col = _identifier(_uri_column("uri_uriuser_column", "uri_user"))
    sql = f"SELECT {user_col}, {domain_col} FROM {_identifier(table)} WHERE {key_col} = ?"
    args: tuple[str, ...] = (parts.user,)
    if modparam_int("auth_db", "use_domain"):
        sql += f" AND {domain_col} = ?"
        args = (parts.user, parts.host)
    if not storable(*args):
        return -4
    try:
        rows = subscriber_db().connection.execute(sql + " LIMIT 2", args).fetchall()
    except (SubscriberDbError, sqlite3.Error) as exc:
        log.error("auth_db: db_get_auth_id on `%s`: %s", table, exc)
        return -8
    if not rows:
        return -4
    if len(rows) > 1:
        log.warning("db_get_auth_id: several rows match %s; consider setting use_domain", uri)
    found_user, found_realm = rows[0]
    if not isinstance(found_user, str) or not isinstance(found_realm, str):
        log.error("db_get_auth_id: the user and domain columns of `%s` are not text", table)
        return -3
    auth.set(found_user)
    realm.set(found_realm)
    return 1
