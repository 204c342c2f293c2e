"""Module `sipmsgops`, its body-part functions: test, add and remove the parts of a body.

A body is one part (its type the Content-Type, `application/sdp` when there is none) or,
with a `multipart/*` Content-Type, the parts `runtime.sip.multipart` splits it into (a
part without a Content-Type is `text/plain`, RFC 2046 §5.1). Edits change the message
itself, Content-Type and Content-Length included, so what is relayed is the edited body
and a later call in the same run sees it. As in OpenSIPS:

- adding a part to a body that has one makes it `multipart/mixed` with the boundary
  `OSS-unique-boundary-42`; a multipart body keeps its own boundary, preamble and epilogue;
- removing parts down to one makes that part the body again (its headers, Content-Type
  first, become the message's); removing all of them removes Content-Type too.

A MIME type is compared as `type/subtype`, case-insensitive, parameters ignored. Unlike
OpenSIPS, which knows a fixed list of types (and matches any type it does not know),
any type is matched exactly.
"""

from __future__ import annotations

from runtime.api import Ctx, RouteKind
from runtime.sip import multipart
from runtime.sip.message import Message
from stdlib import _msg
from stdlib._registry import Out, export
from stdlib.sipmsgops import reply_header_lines

R = RouteKind
BODY_ROUTES = R.REQUEST | R.FAILURE | R.ONREPLY | R.BRANCH | R.LOCAL

DEFAULT_TYPE = "application/sdp"
PART_DEFAULT_TYPE = "text/plain"


def _content_type(msg: Message) -> str:
    return msg.header("Content-Type") or DEFAULT_TYPE


def _parts(msg: Message) -> list[multipart.Part] | None:
    """The parts of a multipart body; None for a single-part (or malformed multipart) one."""
    return multipart.split(_content_type(msg), msg.body)


def _drop_body(msg: Message) -> None:
    msg.remove_header("Content-Type")
    msg.set_body(b"")


def _unwrap(msg: Message, part: multipart.Part) -> None:
    """Make the one part left the whole body; its headers (bar Content-Length) go up."""
    msg.set_header("Content-Type", part.header("Content-Type") or PART_DEFAULT_TYPE)
    for name, value in part.headers:
        if name.lower() not in ("content-type", "content-length"):
            msg.add_header(name, value)
    msg.set_body(part.body)


def _one_line(text: str) -> bool:
    return "\r" not in text and "\n" not in text


@export(routes=BODY_ROUTES, module="sipmsgops")
def has_body_part(ctx: Ctx, mime: str | None = None) -> int:
    """A body with a part of type `mime` (any part when no type is given). A `multipart/*`
    type is compared with the message's own Content-Type."""
    msg = ctx.msg
    if not msg.body:
        return -1
    if not mime:
        return 1
    wanted = multipart.media_type(mime)
    content_type = _content_type(msg)
    parts = _parts(msg)
    if wanted.startswith("multipart/") or parts is None:
        return 1 if multipart.media_type(content_type) == wanted else -1
    return 1 if any(part.media_type == wanted for part in parts) else -1


@export(routes=BODY_ROUTES, module="sipmsgops")
def remove_body_part(ctx: Ctx, mime: str | None = None, revert: str | None = None) -> int:
    """Remove every part of type `mime` (with `revert` = `"revert"`: every part of
    another type), or the whole body when no type is given; -1 when nothing went."""
    msg = ctx.msg
    if not msg.body:
        return -1
    if not mime:
        _drop_body(msg)
        return 1
    wanted = multipart.media_type(mime)
    keep_wanted = revert == "revert"

    def doomed(media_type: str) -> bool:
        return (media_type != wanted) if keep_wanted else (media_type == wanted)

    parts = _parts(msg)
    if parts is None:
        if not doomed(multipart.media_type(_content_type(msg))):
            return -1
        _drop_body(msg)
        return 1
    gone = [part for part in parts if doomed(part.media_type)]
    if not gone:
        return -1
    kept = [part for part in parts if not doomed(part.media_type)]
    if not kept:
        _drop_body(msg)
    elif len(kept) == 1:
        _unwrap(msg, kept[0])
    else:
        msg.set_body(multipart.remove_parts(msg.body, gone))
    return 1


@export(routes=BODY_ROUTES, module="sipmsgops")
def add_body_part(ctx: Ctx, body: str, mime: str, headers: str | None = None) -> int:
    """Add a part of type `mime` holding `body`, with `headers` (whole header lines) next
    to its Content-Type; a body that had a part becomes multipart."""
    msg = ctx.msg
    mime = mime.strip()
    if not body or not mime or not _one_line(mime):
        return -1
    extra: list[str] = []
    if headers and headers.strip():
        lines = reply_header_lines(headers)
        if lines is None:
            return -1
        extra = lines
    content = _msg.encode(body)
    old_body = msg.body
    if not old_body:  # the part is the body
        msg.set_header("Content-Type", mime)
        for line in extra:
            name, _, value = line.partition(":")
            msg.add_header(name.strip(), value.strip())
        msg.set_body(content)
        return 1
    part_lines = [f"Content-Type: {mime}", *extra]
    content_type = _content_type(msg)
    parts = _parts(msg)
    if parts is None:
        boundary = multipart.OSS_BOUNDARY
        delimiter = b"--" + boundary.encode()
        if delimiter in old_body or delimiter in content:
            return -1
        joined = multipart.join(
            boundary, [([f"Content-Type: {content_type}"], old_body), (part_lines, content)]
        )
        msg.set_body(joined, f"multipart/mixed;boundary={boundary}")
        return 1
    boundary_text = multipart.boundary_of(content_type)
    assert boundary_text is not None  # split() found the parts by it
    if b"--" + _msg.encode(boundary_text) in content:
        return -1
    added = multipart.part_bytes(boundary_text, part_lines, content)
    msg.set_body(multipart.append_part(old_body, parts, added))
    return 1


@export(routes=BODY_ROUTES, module="sipmsgops")
def get_updated_body_part(ctx: Ctx, mime: str | None, variable: Out[str]) -> int:
    """The body with every edit so far (sipc applies edits at once, so: the body as it
    stands), or the content of its first part of type `mime`; -1 without a body, -2 when
    no part has that type. The message is not changed."""
    msg = ctx.msg
    if not msg.body:
        return -1
    if not mime:
        variable.set(_msg.decode(msg.body))
        return 1
    wanted = multipart.media_type(mime)
    parts = _parts(msg)
    if parts is None:
        if multipart.media_type(_content_type(msg)) != wanted:
            return -2
        variable.set(_msg.decode(msg.body))
        return 1
    for part in parts:
        if part.media_type == wanted:
            variable.set(_msg.decode(part.body))
            return 1
    return -2
