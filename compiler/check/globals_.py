"""Core parameters (`name = value` at the top level): known names and the form of values."""

from __future__ import annotations

import difflib
import re

from compiler import ast
from compiler.diagnostics import Diagnostic, make
from compiler.globals import GLOBALS, RENAMED

_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+|yes|no|true|false|on|off|enable|disable)$")
_SIGNED = re.compile(
    r"^[+-]?\s*(0[xX][0-9a-fA-F]+|[0-9]+|yes|no|true|false|on|off|enable|disable)$"
)
_STRING = re.compile(r"""^("(?:[^"\\]|\\.)*"|'[^']*')$""")
# `socket = udp:10.0.0.1:5060-5070,5080 as 1.2.3.4:5060 use_workers 4 tag pub anycast`:
# 3.x wants the protocol; `listen` still takes a bare host.
_HOST = r"""(?:\*|\[[0-9a-fA-F:.]+\]|"[^"]*"|[A-Za-z0-9_.-]+)"""
_PORTS = r"(?:\*|[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*)"
_SOCKET_PARAM = (
    r"(?:as\s+" + _HOST + r"(?::[0-9]+)?|use_workers\s+[0-9]+|tos\s+\S+|tag\s+\S+"
    r"|use_auto_scaling_profile\s+\S+|anycast|ANYCAST|frag|FRAG|reuse_port|REUSE_PORT"
    r"|accept_subdomain|ACCEPT_SUBDOMAIN|allow_proxy_protocol|send_proxy_protocol|proxy_protocol)"
)
_SOCKET = re.compile(
    r"^(?:[A-Za-z_0-9]+:" + _HOST + r"(?::" + _PORTS + r")?|bond:\S+\s*\{.*\})"
    r"(?:\s+" + _SOCKET_PARAM + r")*$",
    re.S,
)
# `udp_workers = 4 use_auto_scaling_profile PROFILE`
_WORKERS = re.compile(r"^[0-9]+(\s+use_auto_scaling_profile\s+[A-Za-z][A-Za-z0-9_]*)?$")


def check(script: ast.Script) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for item in script.items:
        if isinstance(item, ast.GlobalParam):
            out.extend(_check_one(item))
    return out


def _check_one(p: ast.GlobalParam) -> list[Diagnostic]:
    name_span = ast.Span(
        p.span.file, p.span.line, p.span.col, p.span.line, p.span.col + len(p.name)
    )
    entry = GLOBALS.get(p.name)
    if entry is None:
        close = difflib.get_close_matches(p.name, GLOBALS, n=1, cutoff=0.75)
        return [
            make(
                "unknown-global",
                name_span,
                f"`{p.name}` is not a core parameter",
                help=f"did you mean `{close[0]}`?"
                if close
                else 'module parameters are set with `modparam("module", "name", value)`',
            )
        ]
    out: list[Diagnostic] = []
    kind, versions = entry
    if p.name in RENAMED:
        new = RENAMED[p.name]
        since = "3.x" if "3" not in versions else "4.x"
        out.append(
            make(
                "deprecated-global",
                name_span,
                f"`{p.name}` is the old name of `{new}`"
                + (" and is gone in " + since if since else ""),
                help=f"write `{new} = ...`",
            )
        )
    elif "3" not in versions and "4" not in versions:
        out.append(
            make(
                "deprecated-global",
                name_span,
                f"`{p.name}` was removed in OpenSIPS 3.0",
                help="OpenSIPS 3.x rejects the script; delete the line",
            )
        )
    elif "3" not in versions and "4" in versions:
        out.append(
            make(
                "deprecated-global",
                name_span,
                f"`{p.name}` exists only in OpenSIPS 4.x",
                help="sipc accepts it; OpenSIPS 3.x would reject the script",
            )
        )
    value = p.value
    ok = True
    if p.name in ("udp_workers", "tcp_workers", "timer_workers"):
        ok = bool(_WORKERS.match(value))
    elif kind == "number":
        ok = bool(_NUMBER.match(value))
    elif kind == "signed":
        ok = bool(_SIGNED.match(value))
    elif kind == "string":
        ok = bool(_STRING.match(value))
    elif p.name == "socket" and not _SOCKET.match(value):
        out.append(
            make(
                "global-value",
                p.value_span,
                f"`socket = {value}` is not a socket definition",
                help="write `socket = PROTO:HOST[:PORT]`, e.g. `socket = udp:"
                + (value if ":" not in value else "127.0.0.1:5060")
                + "`",
            )
        )
        return out
    if not ok:
        expected = {
            "number": "a number or yes/no",
            "signed": "a number",
            "string": "a quoted string",
        }
        what = expected.get(kind, "a number")
        out.append(make("global-value", p.value_span, f"`{p.name}` takes {what}, not `{value}`"))
    return out
