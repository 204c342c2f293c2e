"""What a compiled script module hands the runtime: route kinds, the route table, exits.

A route is a plain function `def route_x(ctx: Ctx) -> int`, or `async def` when it can
suspend. The runtime calls it directly; see `runtime.core.pipeline` for how a coroutine
route is driven without creating a task unless it really suspends.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from runtime.core.ctx import Ctx

Value: TypeAlias = int | str | None
"""A script value: an integer, a text string, or null."""


class RouteKind(enum.IntFlag):
    """The kinds of route blocks; a function's allowed contexts are a union of these."""

    REQUEST = enum.auto()
    FAILURE = enum.auto()
    ONREPLY = enum.auto()
    BRANCH = enum.auto()
    ERROR = enum.auto()
    LOCAL = enum.auto()
    STARTUP = enum.auto()
    TIMER = enum.auto()
    EVENT = enum.auto()
    ALL = REQUEST | FAILURE | ONREPLY | BRANCH | ERROR | LOCAL | STARTUP | TIMER | EVENT


class ScriptExit(Exception):
    """Ends the whole script run cleanly: `exit`, `return(0)` at any depth, a builtin returning 0."""

    __slots__ = ()


class ScriptDrop(ScriptExit):
    """`drop`: ends the run like `exit` and also discards the reply or branch being processed."""

    __slots__ = ()


RouteResult: TypeAlias = "int | Coroutine[Any, Any, int]"
RouteFn: TypeAlias = "Callable[[Ctx], int | Coroutine[Any, Any, int]]"
"""A compiled route: `def route_x(ctx) -> int` or `async def route_x(ctx) -> int`."""


@dataclass(frozen=True, slots=True)
class TimerRoute:
    """`timer_route[name, interval]`: run `fn` every `interval` seconds."""

    name: str
    interval: float
    fn: RouteFn


@dataclass(slots=True)
class RouteTable:
    """Every route block of one compiled script, by kind.

    `named` holds `route[name]` blocks (called from other routes, not by the runtime);
    `failure`, `branch` and named `onreply` routes are armed by the script (tm) by name.
    """

    main: RouteFn | None = None
    named: dict[str, RouteFn] = field(default_factory=dict)
    onreply: RouteFn | None = None
    onreply_named: dict[str, RouteFn] = field(default_factory=dict)
    failure: dict[str, RouteFn] = field(default_factory=dict)
    branch: dict[str, RouteFn] = field(default_factory=dict)
    error: RouteFn | None = None
    local: RouteFn | None = None
    startup: RouteFn | None = None
    timers: list[TimerRoute] = field(default_factory=list)
    events: dict[str, RouteFn] = field(default_factory=dict)
    # Run once before the sockets are bound (open databases...); an exception in one
    # is a start-up failure (exit 3), as a socket that cannot be bound is.
    prepare: list[Callable[[], None]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ScriptConfig:
    """The top level of a compiled script: its core parameters, sockets, modules, modparams.

    `globals` keeps every `name = value` in order, as written; `sockets` the values of its
    `socket=`/`listen=` lines, which `sipc run` binds unless told otherwise.
    """

    source: str
    sha256: str
    globals: tuple[tuple[str, str], ...] = ()
    sockets: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    modparams: tuple[tuple[str, str, int | str], ...] = ()
