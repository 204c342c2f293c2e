"""Frozen record classes, as `@dataclass(frozen=True, slots=True)` makes them, for less.

`dataclass` writes the source of six methods per class and compiles each with `exec` when
the class is defined: for the ~40 classes `sipc check` imports that was 20 ms of its start,
before any script was read. `@record` gives a class the same behaviour, with the methods
made when first needed instead:

- `__init__` is compiled on the first instance of the class (one `exec`, not six), and
  sets the slots through their descriptors, so a record is built faster than a frozen
  dataclass too;
- `__eq__`, `__hash__` and `__repr__` are shared functions over the class's field tuple;
- assigning or deleting a field raises `dataclasses.FrozenInstanceError`; copying and
  pickling work as for a frozen dataclass with slots;
- `dataclasses.fields()`, `is_dataclass()`, `replace()` and `asdict()` work on records (the
  class carries `__dataclass_fields__`, as a dataclass does).

Fields are declared as for a dataclass: annotations in order, an optional default, and
`dataclasses.field(default=..., compare=False, repr=False)` to leave a field out of
equality and repr. mypy reads `@record` as a frozen dataclass (`dataclass_transform`).
`fields(cls)` names a record's fields, faster than `dataclasses.fields`. Not supported (none of sipc's records use them):
inheritance between records, `default_factory`, `init=False`, `kw_only`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

_MISSING = dataclasses.MISSING
# A record class -> its field names, in order.
_FIELDS: dict[type, tuple[str, ...]] = {}


def fields(cls: type) -> tuple[str, ...] | None:
    """The field names of a record class, or None when `cls` is not one."""
    return _FIELDS.get(cls)


def _tuple_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) >= 2:
        return attrgetter(*names)
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return lambda self: ()


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def record(cls: type[T]) -> type[T]:
    """Make `cls` a frozen, slotted record class (see the module's docs)."""
    namespace = dict(cls.__dict__)
    names = tuple(namespace.get("__annotations__", {}))
    defaults: dict[str, Any] = {}
    compared: list[str] = []
    shown: list[str] = []
    described: dict[str, dataclasses.Field[Any]] = {}
    for name in names:
        annotation = namespace["__annotations__"][name]
        if str(annotation).startswith(("ClassVar", "InitVar")):
            raise TypeError(f"{cls.__name__}.{name}: ClassVar/InitVar not supported by @record")
        value = namespace.pop(name, _MISSING)
        if not isinstance(value, dataclasses.Field):
            value = dataclasses.field(default=value)
        if value.default_factory is not _MISSING or not value.init or value.kw_only is True:
            raise TypeError(f"{cls.__name__}.{name}: field option not supported by @record")
        # described as dataclass describes its fields, so `dataclasses.fields()` reads them
        value.name, value.type = name, annotation
        value._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
        described[name] = value
        compare, show = value.compare, value.repr
        value = value.default
        if value is not _MISSING:
            defaults[name] = value
        elif defaults:
            raise TypeError(f"{cls.__name__}.{name}: a field without a default follows one with")
        if compare:
            compared.append(name)
        if show:
            shown.append(name)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__slots__"] = names
    namespace["__match_args__"] = names
    namespace["__dataclass_fields__"] = described
    metaclass: type[type] = type(cls)
    new: type[T] = metaclass(cls.__name__, cls.__bases__, namespace)
    new.__qualname__ = cls.__qualname__
    _FIELDS[new] = names

    key = _tuple_getter(tuple(compared))
    values = _tuple_getter(names)
    show_values = _tuple_getter(tuple(shown))
    repr_names = tuple(shown)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(key(self) == key(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(key(self))

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(repr_names, show_values(self), strict=True))
        return f"{self.__class__.__qualname__}({inner})"

    def __getstate__(self: Any) -> list[Any]:
        return list(values(self))

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # The first instance compiles the real __init__ and puts it in place of this one.
        real = _compile_init(new, names, defaults)
        type.__setattr__(new, "__init__", real)
        real(self, *args, **kwargs)

    for method in (__eq__, __hash__, __repr__, __getstate__, __setstate__, __init__):
        if method.__name__ in namespace:  # the class wrote its own, as dataclass allows
            continue
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        type.__setattr__(new, method.__name__, method)
    type.__setattr__(new, "__setattr__", _frozen_setattr)
    type.__setattr__(new, "__delattr__", _frozen_delattr)
    return new


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _compile_init(
    cls: type, names: tuple[str, ...], defaults: dict[str, Any]
) -> Callable[..., None]:
    params = ", ".join(f"{n}=_d_{n}" if n in defaults else n for n in names)
    body = "".join(f"    _s_{n}(self, {n})\n" for n in names) or "    pass\n"
    namespace: dict[str, Any] = {f"_d_{n}": v for n, v in defaults.items()}
    for name in names:
        namespace[f"_s_{name}"] = cls.__dict__[name].__set__
    exec(f"def __init__(self, {params}) -> None:\n{body}", namespace)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
