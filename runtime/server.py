"""Start-up of the sipc proxy: bind the sockets, run the routes, stop cleanly on a signal."""

from __future__ import annotations

from collections.abc import Sequence

from runtime.core.script import RouteTable


def serve(routes: RouteTable, sockets: Sequence[str], *, stats_file: str | None = None) -> int:
    """Serve SIP on `sockets` (`udp:IP:PORT` ...) until SIGTERM/SIGINT; the exit code."""
    raise NotImplementedError("runtime.server.serve lands with the transport layer")
