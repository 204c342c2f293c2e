"""Start-up of the sipc proxy: bind the sockets, run the routes, stop cleanly on a signal.

`serve()` owns one event loop (uvloop unless asked otherwise): it binds every socket
(exit code 3 with `sipc: cannot bind ...` when one cannot be bound), runs the startup
route once, arms the timer routes, and serves until SIGTERM or SIGINT. Stopping closes
the listening sockets first, lets suspended script runs finish (bounded by
`drain_timeout`), closes TCP connections, and reports the counters (a log line, and a
JSON file when `stats_file` is given). Exit code 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runtime import _native
from runtime.core.ctx import detached_context
from runtime.core.log import configure_logging
from runtime.core.pipeline import Pipeline
from runtime.core.script import RouteFn, RouteKind, RouteTable, ScriptConfig, TimerRoute
from runtime.core.stateful import TICK as TM_TICK
from runtime.sip import StreamFramer
from runtime.transport.layer import BindError, Transports
from runtime.transport.socketinfo import ListenSpecError, SocketInfo, parse_listen
from runtime.transport.stats import TransportStats
from runtime.usrloc import TABLES as LOCATION

log = logging.getLogger("sipc.server")

EXIT_OK = 0
EXIT_STARTUP_FAILURE = 3


@dataclass(slots=True)
class ServerOptions:
    stats_file: str | None = None
    tcp_idle_timeout: float = 120.0
    # UDP receive buffer, bytes (the script's `maxbuffer`). OpenSIPS asks for 256 KB; a
    # Python proxy's pauses (a collection, a burst of timers) are longer, and a full buffer
    # drops datagrams that SIP then retransmits, so sipc asks for 4 MiB. The kernel caps it
    # at net.core.rmem_max.
    udp_rcvbuf: int = 4 << 20
    drain_timeout: float = 5.0
    use_uvloop: bool = True
    aliases: tuple[str, ...] = ()


GC_THRESHOLD = 10_000


class StartupError(Exception):
    """The script's preparation failed (a database that cannot be opened...)."""


class Server:
    """One process's proxy: transports, pipeline, timers; started and stopped in a loop."""

    def __init__(self, routes: RouteTable, options: ServerOptions | None = None) -> None:
        self.routes = routes
        self.options = options or ServerOptions()
        self.stats = TransportStats()
        self.pipeline = Pipeline(routes, self.stats)
        self.transports = Transports(
            self.pipeline,
            StreamFramer,
            self.stats,
            self.options.tcp_idle_timeout,
            self.options.udp_rcvbuf,
        )
        self.sockets: list[SocketInfo] = []
        self._stopping = asyncio.Event()
        self._timers: dict[str, asyncio.TimerHandle] = {}  # the next tick of each timer

    async def start(self, sockets: Sequence[SocketInfo]) -> list[SocketInfo]:
        """Prepare the script (raises `StartupError`), bind every socket (raises
        `BindError`), then run the startup route and arm the timers."""
        for prepare in self.routes.prepare:
            try:
                prepare()
            except Exception as exc:
                raise StartupError(f"{type(exc).__name__}: {exc}") from exc
        self.sockets = await self.transports.bind(sockets)
        self.pipeline.attach(self.transports)
        for alias in self.options.aliases:
            info = parse_listen(alias)
            self.pipeline.aliases.append((info.ip, info.port))
        if self.routes.startup is not None:
            self._run_without_message(self.routes.startup, RouteKind.STARTUP, "startup_route")
        for timer in self.routes.timers:
            self._arm(timer)
        self._arm_location_expiry()
        self._arm_transaction_timers()
        # Everything loaded so far (the compiler, the script, the tables) lives for the whole
        # run: take it out of the cyclic collector's scans, whose cost grows with the heap.
        gc.freeze()
        # Per message the proxy allocates a few hundred objects that die young; collecting
        # generation 0 every 700 allocations costs more than it frees.
        gc.set_threshold(GC_THRESHOLD, 20, 20)
        log.info("listening on %s", ", ".join(info.name for info in self.sockets))
        log.info("runtime: %s", _native.status())
        return self.sockets

    def _run_without_message(self, fn: RouteFn, kind: RouteKind, name: str) -> None:
        ctx = detached_context(self.pipeline, self.sockets[0], kind, name)
        self.pipeline.run_route(fn, ctx)

    def _arm(self, timer: TimerRoute) -> None:
        loop = asyncio.get_running_loop()

        def tick() -> None:
            if self._stopping.is_set():
                return
            self._timers[timer.name] = loop.call_later(timer.interval, tick)
            self._run_without_message(timer.fn, RouteKind.TIMER, f"timer_route[{timer.name}]")

        self._timers[timer.name] = loop.call_later(timer.interval, tick)

    def _arm_location_expiry(self) -> None:
        """usrloc's timer: purge expired bindings every `timer_interval` seconds."""
        loop = asyncio.get_running_loop()

        def tick() -> None:
            if self._stopping.is_set():
                return
            self._timers["usrloc"] = loop.call_later(LOCATION.timer_interval, tick)
            try:
                LOCATION.expire()
            except Exception:
                log.exception("usrloc expiry failed")

        self._timers["usrloc"] = loop.call_later(LOCATION.timer_interval, tick)

    def _arm_transaction_timers(self) -> None:
        """tm's timers: one periodic tick fires what is due on the pipeline's wheel
        (DESIGN.md "The hot path": no timer handle per transaction). The tick stops while
        the wheel is empty and starts again when a transaction arms a timer."""
        loop = asyncio.get_running_loop()
        stateful = self.pipeline.stateful

        def tick() -> None:
            if self._stopping.is_set():
                return
            try:
                stateful.tick()
            except Exception:
                log.exception("transaction timers failed")
            if len(stateful.wheel):
                self._timers["tm"] = loop.call_later(TM_TICK, tick)
            else:
                self._timers.pop("tm", None)
                stateful.asleep = True

        def wake() -> None:
            if not self._stopping.is_set() and "tm" not in self._timers:
                self._timers["tm"] = loop.call_later(TM_TICK, tick)

        stateful.wake = wake
        self._timers["tm"] = loop.call_later(TM_TICK, tick)

    def request_stop(self) -> None:
        self._stopping.set()

    async def wait_stopped(self) -> None:
        await self._stopping.wait()

    async def stop(self) -> None:
        """Stop accepting, drain suspended runs, close everything, report the counters."""
        self._stopping.set()
        for handle in self._timers.values():
            handle.cancel()
        self.transports.close_listeners()
        in_flight = list(self.pipeline.in_flight)
        if in_flight:
            log.info("draining %d suspended script runs", len(in_flight))
            _, pending = await asyncio.wait(in_flight, timeout=self.options.drain_timeout)
            for task in pending:
                task.cancel()
        self.transports.close()
        LOCATION.close()
        await asyncio.sleep(0)  # let transports run their close callbacks
        log.info("stopped: %s", self.stats.summary())
        if self.options.stats_file:
            with open(self.options.stats_file, "w", encoding="utf-8") as out:
                json.dump(self.stats.as_dict(), out)


async def _serve(routes: RouteTable, sockets: list[SocketInfo], options: ServerOptions) -> int:
    server = Server(routes, options)
    try:
        await server.start(sockets)
    except BindError as exc:
        print(f"sipc: {exc.strerror}", file=sys.stderr)
        return EXIT_STARTUP_FAILURE
    except StartupError as exc:
        print(f"sipc: cannot start: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILURE
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.request_stop)
    try:
        await server.wait_stopped()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await server.stop()
    return EXIT_OK


def _loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if not use_uvloop:
        return None
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; stay usable without
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def script_options(config: ScriptConfig | None) -> ServerOptions:
    """The server options a compiled script's core parameters set: `maxbuffer` (the UDP
    receive buffer)."""
    options = ServerOptions()
    for name, value in config.globals if config is not None else ():
        if name == "maxbuffer" and value.strip().isdigit() and int(value) > 0:
            options.udp_rcvbuf = int(value)
    return options


def serve(
    routes: RouteTable,
    sockets: Sequence[str],
    *,
    stats_file: str | None = None,
    options: ServerOptions | None = None,
) -> int:
    """Serve SIP on `sockets` (`udp:IP:PORT` ...) until SIGTERM/SIGINT; the exit code."""
    options = options or ServerOptions()
    if stats_file is not None:
        options.stats_file = stats_file
    if not logging.getLogger().handlers:
        configure_logging()
    try:
        infos = [parse_listen(spec) for spec in sockets]
    except ListenSpecError as exc:
        print(f"sipc: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILURE
    if not infos:
        print("sipc: no socket to listen on", file=sys.stderr)
        return EXIT_STARTUP_FAILURE
    runner = asyncio.Runner(loop_factory=_loop_factory(options.use_uvloop))
    with runner, contextlib.suppress(KeyboardInterrupt):
        return runner.run(_serve(routes, infos, options))
    return EXIT_OK


def serve_main(
    routes: RouteTable,
    default_sockets: Sequence[str],
    argv: Sequence[str] | None = None,
    *,
    config: ScriptConfig | None = None,
) -> int:
    """Command line of a compiled module run alone: `python proxy.py [-l SOCKET]...`."""
    parser = argparse.ArgumentParser(description="Run this compiled sipc script.")
    parser.add_argument("-l", "--listen", action="append", metavar="SOCKET",
                        help="socket to serve, e.g. udp:127.0.0.1:5060 (repeatable)")  # fmt: skip
    parser.add_argument("--stats-file", help="write the counters here as JSON on exit")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    parser.add_argument("--no-uvloop", action="store_true", help="use the stdlib event loop")
    args = parser.parse_args(argv)
    configure_logging(getattr(logging, str(args.log_level).upper(), logging.INFO))
    options = script_options(config)
    options.stats_file = args.stats_file
    options.use_uvloop = not args.no_uvloop
    return serve(routes, args.listen or list(default_sockets), options=options)
