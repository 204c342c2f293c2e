"""Module `sipmsgops`, its SDP functions: codecs and streams of the message body.

The body is edited in the message itself (its bytes and Content-Length), so what is
relayed — the request by `t_relay`/`forward`, the reply after an onreply_route — is the
edited SDP, and a later call in the same run sees the earlier edits. The SDP is the
body when its Content-Type is `application/sdp` (or absent), else the first
`application/sdp` part of a multipart body. The parsing and editing is
`runtime.sip.sdp`; a codec name is matched case-insensitively, a regex (also
case-insensitive) against the encoding name alone (`PCMU`, `telephone-event`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from runtime.api import Ctx, RouteKind
from runtime.sip import multipart
from runtime.sip.sdp import Codec, Media, Sdp, parse_sdp
from stdlib._regex import compile_regex
from stdlib._registry import Regex, export

R = RouteKind
SDP_ROUTES = R.REQUEST | R.FAILURE | R.ONREPLY | R.BRANCH | R.LOCAL

log = logging.getLogger(__name__)

SDP_TYPE = "application/sdp"


def _pattern(regex: str) -> re.Pattern[str] | None:
    try:
        return compile_regex(regex)
    except re.error as exc:
        log.error("bad regex %r: %s", regex, exc)
        return None


def message_sdp(ctx: Ctx) -> Sdp | None:
    """The SDP of the message body, None when there is none (or it does not parse)."""
    msg = ctx.msg
    body = msg.body
    if not body:
        return None
    content_type = msg.header("Content-Type") or SDP_TYPE
    if multipart.media_type(content_type) == SDP_TYPE:
        return parse_sdp(body)
    parts = multipart.split(content_type, body)
    if parts is None:
        return None
    for part in parts:
        if part.media_type == SDP_TYPE:
            return parse_sdp(part.body)
    return None


def store_sdp(ctx: Ctx, sdp: Sdp) -> None:
    """Put the edited SDP back where it came from, with Content-Length made right."""
    msg = ctx.msg
    content_type = msg.header("Content-Type") or SDP_TYPE
    data = sdp.to_bytes()
    if multipart.media_type(content_type) != SDP_TYPE:
        parts = multipart.split(content_type, msg.body)
        if parts is None:
            return
        for part in parts:
            if part.media_type == SDP_TYPE:
                data = multipart.replace_body(msg.body, part, data)
                break
    msg.set_body(data)


def _by_name(name: str, clock: str | None) -> Callable[[Codec], bool]:
    wanted = name.strip().lower()
    rate = clock.strip() if clock else None

    def matches(codec: Codec) -> bool:
        return codec[0].lower() == wanted and (rate is None or codec[1] == rate)

    return matches


def _by_regex(pattern: re.Pattern[str], *, complement: bool = False) -> Callable[[Codec], bool]:
    def matches(codec: Codec) -> bool:
        return (pattern.search(codec[0]) is not None) != complement

    return matches


def _exists(ctx: Ctx, wanted: Callable[[Codec], bool]) -> int:
    sdp = message_sdp(ctx)
    return 1 if sdp is not None and sdp.codecs_where(wanted) else -1


def _delete(ctx: Ctx, wanted: Callable[[Codec], bool]) -> int:
    sdp = message_sdp(ctx)
    if sdp is None or not sdp.delete_codecs(wanted):
        return -1
    store_sdp(ctx, sdp)
    return 1


def _move(ctx: Ctx, wanted: Callable[[Codec], bool], *, to_front: bool) -> int:
    sdp = message_sdp(ctx)
    if sdp is None or not sdp.move_codecs(wanted, to_front=to_front):
        return -1
    store_sdp(ctx, sdp)
    return 1


# ---------------------------------------------------------------------------- codecs


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_exists(ctx: Ctx, name: str, clock: str | None = None) -> int:
    """Whether a stream offers codec `name` (with clock rate `clock` when given)."""
    return _exists(ctx, _by_name(name, clock))


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_exists_re(ctx: Ctx, regexp: Regex) -> int:
    pattern = _pattern(regexp)
    return -1 if pattern is None else _exists(ctx, _by_regex(pattern))


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_delete(ctx: Ctx, name: str, clock: str | None = None) -> int:
    """Remove the codec from every stream; a stream left with none is disabled (port 0)."""
    return _delete(ctx, _by_name(name, clock))


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_delete_re(ctx: Ctx, regexp: Regex) -> int:
    pattern = _pattern(regexp)
    return -1 if pattern is None else _delete(ctx, _by_regex(pattern))


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_delete_except_re(ctx: Ctx, regexp: Regex) -> int:
    """Remove every codec whose name does not match the regex."""
    pattern = _pattern(regexp)
    return -1 if pattern is None else _delete(ctx, _by_regex(pattern, complement=True))


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_move_up(ctx: Ctx, name: str, clock: str | None = None) -> int:
    """Move the codec to the front of each m= line that has it."""
    return _move(ctx, _by_name(name, clock), to_front=True)


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_move_up_re(ctx: Ctx, regexp: Regex) -> int:
    pattern = _pattern(regexp)
    return -1 if pattern is None else _move(ctx, _by_regex(pattern), to_front=True)


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_move_down(ctx: Ctx, name: str, clock: str | None = None) -> int:
    """Move the codec to the end of each m= line that has it."""
    return _move(ctx, _by_name(name, clock), to_front=False)


@export(routes=SDP_ROUTES, module="sipmsgops")
def codec_move_down_re(ctx: Ctx, regexp: Regex) -> int:
    pattern = _pattern(regexp)
    return -1 if pattern is None else _move(ctx, _by_regex(pattern), to_front=False)


# ---------------------------------------------------------------------------- streams


def _stream_filter(regexp: str, regexp2: str | None) -> Callable[[Media], bool] | None:
    media = _pattern(regexp)
    proto = _pattern(regexp2) if regexp2 else None
    if media is None or (regexp2 and proto is None):
        return None

    def matches(section: Media) -> bool:
        return media.search(section.media) is not None and (
            proto is None or proto.search(section.proto) is not None
        )

    return matches


@export(routes=SDP_ROUTES, module="sipmsgops")
def stream_exists(ctx: Ctx, regexp: Regex, regexp2: Regex | None = None) -> int:
    """Whether a stream's media (`audio`, `video`...) matches, and its transport
    (`RTP/AVP`, `RTP/SAVPF`...) matches `regexp2` when given."""
    wanted = _stream_filter(regexp, regexp2)
    sdp = message_sdp(ctx) if wanted is not None else None
    return 1 if sdp is not None and wanted is not None and sdp.find_stream(wanted) else -1


@export(routes=SDP_ROUTES, module="sipmsgops")
def stream_delete(ctx: Ctx, regexp: Regex, regexp2: Regex | None = None) -> int:
    """Remove the first matching stream: its m= line and every line under it."""
    wanted = _stream_filter(regexp, regexp2)
    sdp = message_sdp(ctx) if wanted is not None else None
    if sdp is None or wanted is None:
        return -1
    section = sdp.find_stream(wanted)
    if section is None:
        return -1
    sdp.delete_stream(section)
    store_sdp(ctx, sdp)
    return 1


@export(routes=SDP_ROUTES, module="sipmsgops")
def is_audio_on_hold(ctx: Ctx) -> int:
    """1 an audio stream is on hold RFC 2543 style (connection address 0.0.0.0), 2 RFC
    3264 style (sendonly or inactive), -1 none is (or no SDP)."""
    sdp = message_sdp(ctx)
    hold = sdp.audio_hold() if sdp is not None else 0
    return hold if hold else -1
