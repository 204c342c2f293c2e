"""Script transformations: ``$(var{s.substr,1,2}{uri.user})`` (spec/pseudo-variables.md §4).

``apply_transform(name, args, value)`` runs one transformation on a value whose arguments
the caller has already evaluated (a variable argument arrives as its value). NULL input gives
NULL output, and so does any failure OpenSIPS reports at run time (a bad index, an unreadable
URI, a NULL or non-numeric argument). A name that is not a transformation or a wrong number of
arguments is a compile-time matter: those raise ``ValueError``.

The families live in ``runtime/core/transforms/``; their functions can be called directly
with a non-NULL value. The argument counts and kinds are in ``runtime.core.pvspec``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache, partial

from runtime.core.pvspec import (
    TransformSpec,
    lookup_transform,
    merge_comma_arguments,
    split_indexed_nameaddr,
)
from runtime.core.transforms import net, regex, sipfields, strings
from runtime.core.transforms.values import Args, FormatExpander, Value, int_arg, text_arg

__all__ = ["FormatExpander", "Value", "apply_transform", "apply_transforms", "transform_names"]

# A transformation bound to its family function: (value, args, expander) -> result.
Handler = Callable[[int | str, Args, FormatExpander | None], Value]


def _plain(function: Callable[[int | str], Value]) -> Handler:
    return lambda value, args, expand: function(value)


def _one_int(function: Callable[[int | str, int], Value]) -> Handler:
    def run(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
        number = int_arg(args, 0)
        return None if number is None else function(value, number)

    return run


def _one_text(function: Callable[[int | str, str], Value]) -> Handler:
    def run(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
        text = text_arg(args, 0)
        return None if text is None else function(value, text)

    return run


def _substr(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
    offset, length = int_arg(args, 0), int_arg(args, 1)
    if offset is None or length is None:
        return None
    return strings.s_substr(value, offset, length)


def _select(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
    index = int_arg(args, 0)
    # "{s.select,1,,}" selects on ",": the separator position can arrive empty.
    separator = text_arg(args, 1) or ","
    return None if index is None else strings.s_select(value, index, separator)


def _search(function: Callable[[int | str, str, int | None], Value]) -> Handler:
    def run(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
        needle = text_arg(args, 0)
        start = int_arg(args, 1)
        if needle is None or (len(args) > 1 and start is None):
            return None
        return function(value, needle, start)

    return run


def _fill(function: Callable[[int | str, str, int], Value]) -> Handler:
    def run(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
        pad, width = text_arg(args, 0), int_arg(args, 1)
        return None if pad is None or width is None else function(value, pad, width)

    return run


def _eval(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
    return strings.s_eval(value, expand)


def _subst(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
    expression = text_arg(args, 0)
    return None if expression is None else regex.re_subst(value, expression, expand)


def _nameaddr(field: str, index: int | None = None) -> Handler:
    def run(value: int | str, args: Args, expand: FormatExpander | None) -> Value:
        param = text_arg(args, 0) if field == "param" else None
        if field == "param" and param is None:
            return None
        return sipfields.nameaddr_field(value, field, param, index)

    return run


def _build_handlers() -> dict[str, Handler]:
    handlers: dict[str, Handler] = {
        "s.len": _plain(strings.s_len),
        "s.int": _plain(strings.s_int),
        "s.crc32": _plain(strings.s_crc32),
        "s.reverse": _plain(strings.s_reverse),
        "s.substr": _substr,
        "s.select": _select,
        "s.encode.hexa": _plain(strings.s_encode_hexa),
        "s.decode.hexa": _plain(strings.s_decode_hexa),
        "s.escape.common": _plain(strings.s_escape_common),
        "s.unescape.common": _plain(strings.s_unescape_common),
        "s.escape.user": _plain(strings.s_escape_user),
        "s.unescape.user": _plain(strings.s_unescape_user),
        "s.escape.param": _plain(strings.s_escape_param),
        "s.unescape.param": _plain(strings.s_unescape_param),
        "s.tolower": _plain(strings.s_tolower),
        "s.toupper": _plain(strings.s_toupper),
        "s.index": _search(strings.s_index),
        "s.rindex": _search(strings.s_rindex),
        "s.fill.left": _fill(strings.s_fill_left),
        "s.fill.right": _fill(strings.s_fill_right),
        "s.width": _one_int(strings.s_width),
        "s.trim": _plain(strings.s_trim),
        "s.trimr": _plain(strings.s_trimr),
        "s.triml": _plain(strings.s_triml),
        "s.dec2hex": _plain(strings.s_dec2hex),
        "s.hex2dec": _plain(strings.s_hex2dec),
        "s.b64encode": _plain(strings.s_b64encode),
        "s.b64decode": _plain(strings.s_b64decode),
        "s.xor": _one_text(strings.s_xor),
        "s.eval": _eval,
        "s.date2unix": _plain(strings.s_date2unix),
        "uri.param": _one_text(sipfields.uri_param),
        "via.param": _one_text(sipfields.via_param),
        "param.value": _one_text(sipfields.param_value),
        "param.exist": _one_text(sipfields.param_exist),
        "param.valueat": _one_int(sipfields.param_valueat),
        "param.name": _one_int(sipfields.param_name),
        "param.count": _plain(sipfields.param_count),
        "ip.pton": _plain(net.ip_pton),
        "ip.ntop": _plain(net.ip_ntop),
        "ip.isip": _plain(net.ip_isip),
        "ip.isip4": _plain(net.ip_isip4),
        "ip.isip6": _plain(net.ip_isip6),
        "ip.isprivate": _plain(net.ip_isprivate),
        "ip.family": _plain(net.ip_family),
        "ip.resolve": _plain(net.ip_resolve),
        "ip.matches": _one_text(net.ip_matches),
        "csv.count": _plain(sipfields.csv_count),
        "csv.value": _one_int(sipfields.csv_value),
        "re.subst": _subst,
    }
    for algorithm in strings.HASH_NAMES:
        handlers[f"s.{algorithm}"] = _plain(partial(strings.s_hash, algorithm=algorithm))
        if algorithm != "md5":
            handlers[f"s.{algorithm}_hmac"] = _one_text(
                partial(strings.s_hmac, algorithm=algorithm)
            )
    for field in sipfields.URI_FIELDS:
        handlers[f"uri.{field}"] = _plain(partial(sipfields.uri_field, field=field))
    for field in sipfields.VIA_FIELDS:
        handlers[f"via.{field}"] = _plain(partial(sipfields.via_field, field=field))
    for field in sipfields.NAMEADDR_FIELDS:
        handlers[f"nameaddr.{field}"] = _nameaddr(field)
    return handlers


_HANDLERS = _build_handlers()


@lru_cache(maxsize=1024)
def _resolve(name: str) -> tuple[TransformSpec, Handler]:
    """The spec and the function of a transformation name (cached: names repeat)."""
    spec = lookup_transform(name)
    if spec is None:
        raise ValueError(f"unknown transformation `{name}`")
    handler = _HANDLERS.get(name)
    if handler is None:
        indexed = split_indexed_nameaddr(name)
        if indexed is None:
            raise NotImplementedError(f"transformation `{name}` is not implemented in sipc")
        handler = _nameaddr(indexed[1], indexed[0])
    return spec, handler


def _check_arity(spec: TransformSpec, args: Args) -> None:
    count = len(args)
    if not spec.min_args <= count <= spec.max_args:
        expected = (
            str(spec.min_args)
            if spec.min_args == spec.max_args
            else f"{spec.min_args} to {spec.max_args}"
        )
        raise ValueError(f"`{spec.name}` takes {expected} argument(s), got {count}")


def apply_transform(
    name: str, args: Sequence[Value], value: Value, *, expand: FormatExpander | None = None
) -> Value:
    """Run the transformation ``name`` (``"s.substr"``, ``"nameaddr.-1.uri"``) on ``value``.

    ``expand`` expands a format string against the current message; ``{s.eval}`` needs it,
    and ``{re.subst}`` uses it for variables written in its replacement."""
    spec, handler = _resolve(name)
    if len(args) > spec.max_args:
        args = merge_comma_arguments(name, args)
    _check_arity(spec, args)
    if value is None:
        return None
    return handler(value, args, expand)


def apply_transforms(
    chain: Sequence[tuple[str, Sequence[Value]]],
    value: Value,
    *,
    expand: FormatExpander | None = None,
) -> Value:
    """Apply ``{tr1}{tr2}...`` left to right, each on the previous result."""
    for name, args in chain:
        value = apply_transform(name, args, value, expand=expand)
    return value


def transform_names() -> frozenset[str]:
    """Every transformation this module implements (the nameaddr.N.field family aside)."""
    return frozenset(_HANDLERS)
