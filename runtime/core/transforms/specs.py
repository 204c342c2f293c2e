"""The transformation table (spec/pseudo-variables.md §4): names, argument counts and kinds,
input and output types. ``runtime.core.pvspec`` re-exports it beside the variable table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

# How an argument is written: "int"/"str" accept a literal or a variable; "char" is one
# character (an empty position stands for ","); "int_literal"/"str_literal" must be written
# out; "subst" is a /re/repl/flags expression; "net" is "ip/len"; "int|str" an index or a name.
ArgKind = Literal["int", "str", "char", "int_literal", "str_literal", "subst", "net", "int|str"]
TransformInput = Literal["str", "int|str", "binary"]
TransformOutput = Literal["int", "str", "int|str", "binary"]


@dataclass(frozen=True, slots=True)
class TransformSpec:
    """One transformation: ``{name,arg,...}``."""

    name: str
    min_args: int
    max_args: int
    arg_kinds: tuple[ArgKind, ...]
    input_type: TransformInput
    output_type: TransformOutput
    doc: str
    # False where sipc's transformations module has no implementation (the sdp.* class).
    implemented: bool = True

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]


def _tr(
    name: str,
    arg_kinds: tuple[ArgKind, ...],
    input_type: TransformInput,
    output_type: TransformOutput,
    doc: str,
    *,
    optional: int = 0,
    implemented: bool = True,
) -> TransformSpec:
    return TransformSpec(
        name=name,
        min_args=len(arg_kinds) - optional,
        max_args=len(arg_kinds),
        arg_kinds=arg_kinds,
        input_type=input_type,
        output_type=output_type,
        doc=doc,
        implemented=implemented,
    )


_HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
_URI_FIELDS = (
    "user",
    "host",
    "domain",
    "passwd",
    "port",
    "params",
    "headers",
    "transport",
    "ttl",
    "uparam",
    "maddr",
    "method",
    "lr",
    "r2",
    "schema",
)
_VIA_FIELDS = (
    "name",
    "version",
    "transport",
    "host",
    "domain",
    "port",
    "comment",
    "params",
    "branch",
    "received",
    "rport",
)
_NAMEADDR_FIELDS: dict[str, tuple[tuple[ArgKind, ...], TransformOutput]] = {
    "name": ((), "str"),
    "uri": ((), "str"),
    "len": ((), "int"),
    "params": ((), "str"),
    "param": (("str",), "str"),
}

_TRANSFORMS: tuple[TransformSpec, ...] = (
    _tr("s.len", (), "int|str", "int", "length"),
    _tr("s.int", (), "str", "int", "leading decimal digits (0 if none)"),
    _tr("s.md5", (), "str", "str", "hex MD5"),
    _tr("s.crc32", (), "str", "str", "decimal CRC32"),
    *(_tr(f"s.{h}", (), "str", "str", f"hex {h.upper()}") for h in _HASHES[1:]),
    *(_tr(f"s.{h}_hmac", ("str",), "str", "str", f"hex HMAC-{h.upper()}") for h in _HASHES[1:]),
    _tr("s.reverse", (), "str", "str", "reversed text"),
    _tr("s.substr", ("int", "int"), "str", "str", "substring by offset and length"),
    _tr("s.select", ("int", "char"), "str", "str", "field by index and separator"),
    _tr("s.encode.hexa", (), "str", "str", "hex encoding"),
    _tr("s.decode.hexa", (), "str", "str", "hex decoding"),
    _tr("s.escape.common", (), "str", "str", "escape ' \" \\ NUL"),
    _tr("s.unescape.common", (), "str", "str", "undo s.escape.common"),
    _tr("s.escape.user", (), "str", "str", "%-escape for a URI user part"),
    _tr("s.unescape.user", (), "str", "str", "undo s.escape.user"),
    _tr("s.escape.param", (), "str", "str", "%-escape for a URI parameter"),
    _tr("s.unescape.param", (), "str", "str", "undo s.escape.param"),
    _tr("s.tolower", (), "str", "str", "ASCII lower case"),
    _tr("s.toupper", (), "str", "str", "ASCII upper case"),
    _tr("s.index", ("str", "int"), "str", "int", "position of needle or NULL", optional=1),
    _tr("s.rindex", ("str", "int"), "str", "int", "last position of needle or NULL", optional=1),
    _tr("s.fill.left", ("str_literal", "int_literal"), "int|str", "str", "left-pad to length"),
    _tr("s.fill.right", ("str_literal", "int_literal"), "int|str", "str", "right-pad to length"),
    _tr("s.width", ("int",), "int|str", "str", "truncate or right-pad with blanks"),
    _tr("s.trim", (), "str", "str", "strip blanks, tabs, CR, LF on both sides"),
    _tr("s.trimr", (), "str", "str", "strip blanks on the right"),
    _tr("s.triml", (), "str", "str", "strip blanks on the left"),
    _tr("s.dec2hex", (), "int|str", "str", "decimal to hex text"),
    _tr("s.hex2dec", (), "str", "int", "hex text to integer"),
    _tr("s.b64encode", (), "str", "str", "base64 encoding"),
    _tr("s.b64decode", (), "str", "str", "base64 decoding"),
    _tr("s.xor", ("str",), "str", "str", "XOR with a repeated secret"),
    _tr("s.eval", (), "str", "str", "expand the input as a format string"),
    _tr("s.date2unix", (), "str", "int", "SIP Date to unix time"),
    *(
        _tr(
            f"uri.{field}",
            (),
            "str",
            "int|str" if field == "port" else "str",
            f"{field} of a SIP URI; NULL if absent",
        )
        for field in _URI_FIELDS
    ),
    _tr("uri.param", ("str",), "str", "str", "value of a URI parameter"),
    *(
        _tr(
            f"via.{field}",
            (),
            "str",
            "int|str" if field == "port" else "str",
            f"{field} of a Via body",
        )
        for field in _VIA_FIELDS
    ),
    _tr("via.param", ("str",), "str", "str", "value of a Via parameter"),
    _tr("param.value", ("str",), "str", "str", "value of a parameter by name"),
    _tr("param.exist", ("str",), "str", "int", "1 if the parameter is present, else 0"),
    _tr("param.valueat", ("int",), "str", "str", "value of the i-th parameter"),
    _tr("param.name", ("int",), "str", "str", "name of the i-th parameter"),
    _tr("param.count", (), "str", "int", "number of parameters"),
    *(
        _tr(f"nameaddr.{field}", kinds, "str", output, f"{field} of a name-addr")
        for field, (kinds, output) in _NAMEADDR_FIELDS.items()
    ),
    _tr("ip.pton", (), "str", "binary", "IP text to binary"),
    _tr("ip.ntop", (), "binary", "str", "binary IP to text"),
    _tr("ip.isip", (), "str", "int", "1 if an IPv4 or IPv6 address"),
    _tr("ip.isip4", (), "str", "int", "1 if an IPv4 address"),
    _tr("ip.isip6", (), "str", "int", "1 if an IPv6 address"),
    _tr("ip.isprivate", (), "str", "int", "1 if a private address"),
    _tr("ip.family", (), "binary", "str", '"INET" or "INET6"'),
    _tr("ip.resolve", (), "str", "str", "resolve a host name to an IP"),
    _tr("ip.matches", ("net",), "str", "int", "1 if the IP is inside ip/len"),
    _tr("csv.count", (), "str", "int", "number of comma-separated values"),
    _tr("csv.value", ("int",), "str", "str", "i-th comma-separated value"),
    _tr(
        "sdp.line",
        ("char", "int"),
        "str",
        "str",
        "n-th SDP line of a type",
        optional=1,
        implemented=False,
    ),
    _tr("sdp.stream", ("int|str",), "str", "str", "a media stream of the SDP", implemented=False),
    _tr(
        "sdp.stream-delete",
        ("int|str",),
        "str",
        "str",
        "SDP without those streams",
        implemented=False,
    ),
    _tr("re.subst", ("subst",), "str", "str", "substitute by a /re/repl/flags expression"),
)

TRANSFORM_SPECS: dict[str, TransformSpec] = {spec.name: spec for spec in _TRANSFORMS}

_INDEXED_NAMEADDR = re.compile(r"nameaddr\.(-?\d+)\.([a-z]+)")


def split_indexed_nameaddr(name: str) -> tuple[int, str] | None:
    """``"nameaddr.-1.uri"`` -> ``(-1, "uri")``; None for any other name."""
    match = _INDEXED_NAMEADDR.fullmatch(name)
    if match is None or match.group(2) not in _NAMEADDR_FIELDS:
        return None
    return int(match.group(1)), match.group(2)


def lookup_transform(name: str) -> TransformSpec | None:
    """The spec of a transformation by name, including the ``nameaddr.N.field`` family."""
    spec = TRANSFORM_SPECS.get(name)
    if spec is not None:
        return spec
    indexed = split_indexed_nameaddr(name)
    if indexed is None:
        return None
    base = TRANSFORM_SPECS[f"nameaddr.{indexed[1]}"]
    return TransformSpec(
        name=name,
        min_args=base.min_args,
        max_args=base.max_args,
        arg_kinds=base.arg_kinds,
        input_type="str",
        output_type=base.output_type,
        doc=f"{base.doc}, of the {indexed[0]}-th name-addr of a list",
    )


_Arg = TypeVar("_Arg")


def merge_comma_arguments(name: str, args: Sequence[_Arg]) -> list[_Arg | str]:
    """Read a comma written as a one-character argument, as OpenSIPS does.

    ``{s.select,1,,}`` selects on ",": split on every comma, its arguments read
    ``["1", "", ""]``. Where a "char" argument is empty and an empty piece follows it, the
    two are one "," argument. Arguments that are not empty text pass through unchanged."""
    spec = lookup_transform(name)
    if spec is None or len(args) <= spec.max_args:
        return list(args)
    merged: list[_Arg | str] = []
    position = 0
    for kind in spec.arg_kinds:
        if position >= len(args):
            break
        is_comma = (
            kind == "char"
            and args[position] == ""
            and position + 1 < len(args)
            and args[position + 1] == ""
        )
        merged.append("," if is_comma else args[position])
        position += 2 if is_comma else 1
    merged.extend(args[position:])
    return merged
