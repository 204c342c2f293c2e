"""The function registry: what the compiler knows about every script function.

Each stdlib function is an ordinary typed Python function with `ctx` first and one
`@export(...)` decorator carrying what Python types cannot say (allowed route kinds,
whether it suspends, whether it may end the script). Parameter kinds are read from the
annotations, so nothing about a function is written twice:

| annotation                | kind          | script argument                                  |
|---------------------------|---------------|--------------------------------------------------|
| `int`                     | INT           | number literal or integer variable               |
| `str`                     | STR           | string (a literal with `$` is a format) or var   |
| `StaticStr`               | STATIC_STR    | plain string literal only                        |
| `NoExpandStr`             | NO_EXPAND_STR | literal whose `$` the function interprets itself |
| `Regex`                   | REGEX         | regex literal or variable                        |
| `RouteRef`                | ROUTE_REF     | the name of a route block                        |
| `Out[int]`, `Out[str]`... | OUT           | an output pseudo-variable (a handle with .set)   |
| `Var`                     | VAR           | a variable passed as itself (e.g. an input list) |

`X | None = None` (or any default) makes a parameter optional.
"""

from __future__ import annotations

import ast
import enum
import functools
import inspect
import os
import sys
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeAlias, TypeVar, Union

from runtime.core.script import RouteKind

ScriptValue: TypeAlias = int | str | None


class ParamKind(enum.Enum):
    """How the script may pass a parameter (language.md §8.2)."""

    INT = "int"
    STR = "str"
    STATIC_STR = "str(static)"
    NO_EXPAND_STR = "str(no-expand)"
    REGEX = "regex"
    ROUTE_REF = "route"
    OUT = "out"
    VAR = "var"


StaticStr = Annotated[str, ParamKind.STATIC_STR]
"""A plain string literal: no variables, no `$` (flag names, `save("location")`)."""

NoExpandStr = Annotated[str, ParamKind.NO_EXPAND_STR]
"""A string whose `$` is kept for the function to interpret (`subst("/a/$1/")`)."""

Regex = Annotated[str, ParamKind.REGEX]
"""A POSIX extended regex, matched case-insensitively; compiled once per distinct text."""

RouteRef = Annotated[str, ParamKind.ROUTE_REF]
"""The name of a route block; the checker verifies that it exists."""

T_contra = TypeVar("T_contra", contravariant=True)


class Out(Protocol[T_contra]):
    """An output pseudo-variable handed in by the generated code: `$var(x)`, `$avp(y)`..."""

    def set(self, value: T_contra | None) -> None:
        """Store `value` in the variable (`None` clears it)."""


@typing.runtime_checkable
class Var(Protocol):
    """A variable passed as itself, read as a whole: an AVP stack or a single `$var`."""

    def get(self) -> ScriptValue:
        """The current (most recent) value, or `None`."""

    def values(self) -> list[int | str]:
        """Every value the variable holds, most recent first (one at most for `$var`)."""

    def set(self, value: ScriptValue) -> None:
        """Replace the whole content with `value` (`None` deletes it)."""


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One declared parameter of a script function."""

    name: str
    kind: ParamKind
    optional: bool
    value_type: type | None
    """`int` or `str` for INT/STR-like and `Out[...]` kinds; `None` for `Var`."""


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """Everything the checker and code generator know about one script function."""

    name: str
    module: str
    func: Callable[..., Any]
    params: tuple[ParamSpec, ...]
    routes: RouteKind
    suspends: bool
    may_exit: bool
    async_ok: bool

    @property
    def python_module(self) -> str:
        """Where generated code imports the function from (`stdlib.rr`)."""
        return self.func.__module__

    @property
    def min_args(self) -> int:
        """How many leading arguments a call must give (trailing optionals may be left out)."""
        required = [i for i, p in enumerate(self.params) if not p.optional]
        return required[-1] + 1 if required else 0

    @property
    def max_args(self) -> int:
        return len(self.params)


@dataclass(frozen=True, slots=True)
class UnsupportedSpec:
    """A function OpenSIPS has and sipc does not implement yet: metadata only."""

    name: str
    module: str
    routes: RouteKind
    min_args: int
    max_args: int
    async_mode: str
    """"no", "yes" (callable directly and through async/launch) or "only" (async/launch only)."""


@dataclass(frozen=True, slots=True)
class ModparamSpec:
    """A `modparam(module, name, value)` sipc understands, with its OpenSIPS default."""

    module: str
    name: str
    type: type
    default: int | str | None
    repeatable: bool = False


class RegistryError(Exception):
    """A stdlib function whose signature the registry cannot describe (a bug in stdlib)."""


REGISTRY: dict[str, FunctionSpec] = {}
"""Every implemented script function by script name."""

MODULES: dict[str, bool] = {}
"""OpenSIPS module name -> whether sipc implements it (filled by `stdlib.modules`)."""

F = TypeVar("F", bound=Callable[..., Any])


def export(
    *,
    routes: RouteKind,
    module: str,
    suspends: bool = False,
    may_exit: bool = False,
    name: str | None = None,
    async_ok: bool = False,
) -> Callable[[F], F]:
    """Record the decorated function in `REGISTRY` under its script name."""

    def record(func: F) -> F:
        script_name = name or func.__name__
        if script_name in REGISTRY:
            raise RegistryError(f"script function `{script_name}` exported twice")
        is_async = _is_async(func)
        if suspends and not is_async:
            raise RegistryError(f"`{script_name}` suspends but is not `async def`")
        if not suspends and is_async:
            raise RegistryError(f"`{script_name}` is `async def` but not marked suspends")
        REGISTRY[script_name] = FunctionSpec(
            name=script_name,
            module=module,
            func=func,
            params=derive_params(func),
            routes=routes,
            suspends=suspends,
            may_exit=may_exit,
            async_ok=async_ok,
        )
        return func

    return record


def _compiled(func: Callable[..., Any]) -> bool:
    """True for a function mypyc compiled (runtime/_native.py): no `__code__`, no annotations."""
    return not hasattr(func, "__code__")


@functools.cache
def _defs_of(module: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module-level `def`s of a compiled module, read once from the `.py` beside it."""
    # the package's folder, not the module's __file__: mypyc points that at its shared library
    package, _, name = module.rpartition(".")
    source = os.path.join(next(iter(sys.modules[package].__path__)), name + ".py")
    with open(source, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), source)
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _source_def(func: Callable[..., Any]) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The `def` of a compiled module-level function, from its module's source."""
    node = _defs_of(func.__module__).get(func.__name__)
    if node is None:
        raise RegistryError(f"`{func.__qualname__}`: no `def` of it in {func.__module__}'s source")
    return node


def _is_async(func: Callable[..., Any]) -> bool:
    if _compiled(func):
        return isinstance(_source_def(func), ast.AsyncFunctionDef)
    return inspect.iscoroutinefunction(func)


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The evaluated annotations of `func`'s parameters (from its source when compiled)."""
    if _compiled(func):
        return source_hints(func)
    return typing.get_type_hints(func, include_extras=True)


def source_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The annotations of `func`'s parameters read from its source text and evaluated in its
    module, as `typing.get_type_hints` evaluates postponed annotations."""
    node = _source_def(func)
    namespace = vars(sys.modules[func.__module__])
    hints: dict[str, Any] = {}
    for arg in (*node.args.posonlyargs, *node.args.args):
        if arg.annotation is not None:
            hints[arg.arg] = eval(ast.unparse(arg.annotation), namespace)  # our own source
    return hints


def derive_params(func: Callable[..., Any]) -> tuple[ParamSpec, ...]:
    """The script parameters of `func`: every parameter after `ctx`, kind from its annotation."""
    hints = _hints(func)
    parameters = list(inspect.signature(func).parameters.values())
    if not parameters or parameters[0].name != "ctx":
        raise RegistryError(f"`{func.__qualname__}` must take `ctx` as its first parameter")
    specs = []
    for parameter in parameters[1:]:
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.POSITIONAL_ONLY):
            raise RegistryError(f"`{func.__qualname__}`: `{parameter.name}` must be positional")
        if parameter.name not in hints:
            raise RegistryError(f"`{func.__qualname__}`: `{parameter.name}` has no annotation")
        annotation, nullable = _strip_none(hints[parameter.name])
        kind, value_type = _kind_of(annotation, func, parameter.name)
        has_default = parameter.default is not parameter.empty
        specs.append(ParamSpec(parameter.name, kind, nullable or has_default, value_type))
    return tuple(specs)


def _strip_none(annotation: Any) -> tuple[Any, bool]:
    """`X | None` -> (X, True); anything else -> (annotation, False)."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1 and len(typing.get_args(annotation)) == 2:
            return members[0], True
    return annotation, False


def _kind_of(
    annotation: Any, func: Callable[..., Any], pname: str
) -> tuple[ParamKind, type | None]:
    if annotation is int:
        return ParamKind.INT, int
    if annotation is str:
        return ParamKind.STR, str
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        markers = [e for e in extras if isinstance(e, ParamKind)]
        if base is str and len(markers) == 1:
            return markers[0], str
    if annotation is Var:
        return ParamKind.VAR, None
    if typing.get_origin(annotation) is Out:
        (inner,) = typing.get_args(annotation)
        if inner in (int, str):
            return ParamKind.OUT, inner
        if inner == int | str:
            return ParamKind.OUT, None
    raise RegistryError(f"`{func.__qualname__}`: cannot derive a kind for `{pname}: {annotation}`")


def lookup(name: str) -> FunctionSpec | None:
    """The implemented function called `name` in scripts, if any."""
    return REGISTRY.get(name)


def is_known(name: str) -> bool:
    """True for any OpenSIPS function sipc knows of, implemented or not."""
    from stdlib._unsupported import UNSUPPORTED

    return name in REGISTRY or name in UNSUPPORTED


def functions_of(module: str) -> Iterator[FunctionSpec]:
    """The implemented functions a script gets by loading `module`, in registration order."""
    return (spec for spec in REGISTRY.values() if spec.module == module)
