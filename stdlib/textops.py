"""Module `textops`: regex search and sed-like substitution over the message text.

As in OpenSIPS, `search` looks at the whole message, the editing functions work from
the first header on (the request line is left to the R-URI functions), and the `_body`
variants only on the body, whose Content-Length is kept right.
"""

from __future__ import annotations

import logging

from runtime.api import Ctx, RouteKind, fmt
from stdlib import _msg, _sipedit
from stdlib._regex import (
    Subst,
    SubstSyntaxError,
    VarReader,
    VarRef,
    compile_regex,
    parse_subst,
)
from stdlib._registry import NoExpandStr, Regex, export

R = RouteKind
TEXT_ROUTES = R.REQUEST | R.FAILURE | R.ONREPLY | R.BRANCH | R.LOCAL
URI_ROUTES = R.REQUEST | R.FAILURE | R.ONREPLY | R.BRANCH

log = logging.getLogger(__name__)


def _split(ctx: Ctx) -> tuple[bytes, str]:
    """The first line (kept as bytes) and the rest of the message as text."""
    raw = _msg.current(ctx)
    start = _sipedit.scan(raw).headers_start
    return raw[:start], _msg.decode(raw[start:])


def _commit_text(ctx: Ctx, first_line: bytes, rest: str) -> int:
    return 1 if _msg.commit(ctx, first_line + _msg.encode(rest)) else -1


def _commit_body(ctx: Ctx, body: str) -> int:
    ctx.msg.set_body(_msg.encode(body))
    return 1


def _body_text(ctx: Ctx) -> str | None:
    body = ctx.msg.body
    return _msg.decode(body) if body else None


def _reader(ctx: Ctx) -> VarReader:
    """Prints a replacement's variable from this run; an unknown one stays as written."""

    def read(ref: VarRef) -> str:
        try:
            return fmt(ctx.pv_get(ref.name, ref.inner))
        except LookupError:
            return ref.text

    return read


def _subst(expression: str) -> Subst | None:
    try:
        return parse_subst(expression)
    except SubstSyntaxError as exc:
        log.error("subst: %s", exc)
        return None


# ---------------------------------------------------------------------------- search


@export(routes=TEXT_ROUTES, module="textops")
def search(ctx: Ctx, regex: Regex) -> int:
    """Whether the regex matches anywhere in the message (request line included)."""
    return 1 if compile_regex(regex).search(_msg.decode(_msg.current(ctx))) else -1


@export(routes=TEXT_ROUTES, module="textops")
def search_body(ctx: Ctx, regex: Regex) -> int:
    body = _body_text(ctx)
    return 1 if body is not None and compile_regex(regex).search(body) else -1


def _append_after_match(text: str, regex: str, txt: str) -> str | None:
    match = compile_regex(regex).search(text)
    if match is None:
        return None
    return text[: match.end()] + txt + text[match.end() :]


@export(routes=TEXT_ROUTES, module="textops")
def search_append(ctx: Ctx, regex: Regex, txt: str) -> int:
    """Insert `txt` right after the first match (searched from the first header on)."""
    first_line, rest = _split(ctx)
    edited = _append_after_match(rest, regex, txt)
    if edited is None:
        return -1
    return _commit_text(ctx, first_line, edited)


@export(routes=TEXT_ROUTES, module="textops")
def search_append_body(ctx: Ctx, regex: Regex, txt: str) -> int:
    body = _body_text(ctx)
    edited = _append_after_match(body, regex, txt) if body is not None else None
    if edited is None:
        return -1
    return _commit_body(ctx, edited)


# ---------------------------------------------------------------------------- replace


def _replace(text: str, regex: str, txt: str, every: bool) -> str | None:
    # the replacement is plain text: no back-references, backslashes kept as they are
    edited, count = compile_regex(regex).subn(lambda _: txt, text, count=0 if every else 1)
    return edited if count else None


def _replace_message(ctx: Ctx, regex: str, txt: str, every: bool) -> int:
    first_line, rest = _split(ctx)
    edited = _replace(rest, regex, txt, every)
    if edited is None:
        return -1
    return _commit_text(ctx, first_line, edited)


def _replace_in_body(ctx: Ctx, regex: str, txt: str, every: bool) -> int:
    body = _body_text(ctx)
    edited = _replace(body, regex, txt, every) if body is not None else None
    if edited is None:
        return -1
    return _commit_body(ctx, edited)


@export(routes=TEXT_ROUTES, module="textops")
def replace(ctx: Ctx, regex: Regex, txt: str) -> int:
    """Replace the first match (from the first header on) by `txt`."""
    return _replace_message(ctx, regex, txt, every=False)


@export(routes=TEXT_ROUTES, module="textops")
def replace_all(ctx: Ctx, regex: Regex, txt: str) -> int:
    return _replace_message(ctx, regex, txt, every=True)


@export(routes=TEXT_ROUTES, module="textops")
def replace_body(ctx: Ctx, regex: Regex, txt: str) -> int:
    return _replace_in_body(ctx, regex, txt, every=False)


@export(routes=TEXT_ROUTES, module="textops")
def replace_body_all(ctx: Ctx, regex: Regex, txt: str) -> int:
    return _replace_in_body(ctx, regex, txt, every=True)


@export(routes=TEXT_ROUTES, module="textops")
def replace_body_atonce(ctx: Ctx, regex: Regex, txt: str) -> int:
    """Every match replaced in one pass over the original body (same as replace_body_all
    here: matches never see earlier replacements)."""
    return _replace_in_body(ctx, regex, txt, every=True)


# ---------------------------------------------------------------------------- subst


@export(routes=TEXT_ROUTES, module="textops")
def subst(ctx: Ctx, expression: NoExpandStr) -> int:
    """sed-like `/re/repl/flags` over the message from the first header on; `\\N` in the
    replacement is the N-th group."""
    parsed = _subst(expression)
    if parsed is None:
        return -1
    first_line, rest = _split(ctx)
    edited, count = parsed.apply(rest, _reader(ctx))
    if not count:
        return -1
    return _commit_text(ctx, first_line, edited)


@export(routes=TEXT_ROUTES, module="textops")
def subst_body(ctx: Ctx, expression: NoExpandStr) -> int:
    parsed = _subst(expression)
    body = _body_text(ctx)
    if parsed is None or body is None:
        return -1
    edited, count = parsed.apply(body, _reader(ctx))
    if not count:
        return -1
    return _commit_body(ctx, edited)


@export(routes=URI_ROUTES, module="textops")
def subst_uri(ctx: Ctx, expression: NoExpandStr) -> int:
    """sed-like substitution on the whole R-URI."""
    parsed = _subst(expression)
    uri = ctx.ruri
    if parsed is None or uri is None:
        return -1
    edited, count = parsed.apply(uri, _reader(ctx))
    if not count:
        return -1
    return 1 if ctx.rewrite_ruri(edited) else -1


@export(routes=URI_ROUTES, module="textops")
def subst_user(ctx: Ctx, expression: NoExpandStr) -> int:
    """sed-like substitution on the R-URI user (an empty result removes the user)."""
    parsed = _subst(expression)
    if parsed is None or ctx.ruri_parts is None:
        return -1
    edited, count = parsed.apply(ctx.ruri_user or "", _reader(ctx))
    if not count:
        return -1
    try:
        ctx.ruri_user = edited or None
    except ValueError:  # the R-URI would hold a blank: left as it was
        return -1
    return 1
