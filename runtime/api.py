"""The narrow, typed facade that generated route modules and `stdlib` import.

Nothing else of `runtime` is meant to be imported by them; names here stay stable.
"""

from __future__ import annotations

from collections.abc import Sequence

from runtime.core import ops
from runtime.core.ctx import AvpStore, Branch, CoreServices, Ctx
from runtime.core.fmt import NULL_TEXT, fmt
from runtime.core.pvaccess import FormatPart, PvRef
from runtime.core.pvspec import (
    PV_SPECS,
    TRANSFORM_SPECS,
    PvSpec,
    TransformSpec,
    lookup_pv,
    lookup_transform,
)
from runtime.core.rr import loose_route, record_route, record_route_value
from runtime.core.script import (
    RouteFn,
    RouteKind,
    RouteTable,
    ScriptConfig,
    ScriptDrop,
    ScriptExit,
    TimerRoute,
    Value,
)
from runtime.core.transformations import apply_transform, apply_transforms
from runtime.core.transforms.regex import posix_to_python_pattern as posix_to_python
from runtime.transport.socketinfo import SocketInfo

__all__ = [
    "NULL_TEXT",
    "PV_SPECS",
    "TRANSFORM_SPECS",
    "AvpStore",
    "Branch",
    "CoreServices",
    "Ctx",
    "FormatPart",
    "PvRef",
    "PvSpec",
    "RouteFn",
    "RouteKind",
    "RouteTable",
    "ScriptConfig",
    "ScriptDrop",
    "ScriptExit",
    "SocketInfo",
    "TimerRoute",
    "TransformSpec",
    "Value",
    "apply_transform",
    "apply_transforms",
    "fmt",
    "lookup_pv",
    "lookup_transform",
    "loose_route",
    "ops",
    "posix_to_python",
    "record_route",
    "record_route_value",
    "serve",
    "serve_main",
]


def serve(routes: RouteTable, sockets: Sequence[str], *, stats_file: str | None = None) -> int:
    """Run the proxy with these routes on these sockets until stopped; returns the exit code.

    `sockets` are `socket=`/`listen=` values: `udp:127.0.0.1:5060`, `tcp:IP:PORT`, `IP:PORT`.
    `stats_file`, when given, receives the transport counters as JSON at shutdown.
    """
    from runtime import server  # uvloop and signal handling only when a server really starts

    return server.serve(routes, sockets, stats_file=stats_file)


def serve_main(
    routes: RouteTable, default_sockets: Sequence[str], *, config: ScriptConfig | None = None
) -> int:
    """`python proxy.py [-l udp:IP:PORT]... [--stats-file F]`: run a compiled module alone."""
    from runtime import server

    return server.serve_main(routes, default_sockets, config=config)
