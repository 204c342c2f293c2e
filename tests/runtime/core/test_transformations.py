"""Transformations with the semantics of spec/pseudo-variables.md §4 (OpenSIPS 3.6)."""

from __future__ import annotations

import base64
import csv
import io
import time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.core.pvspec import TRANSFORM_SPECS
from runtime.core.transformations import apply_transform, apply_transforms, transform_names
from runtime.core.transforms import net
from runtime.core.transforms.values import Value, to_bytes


def tr(name: str, value: Value, *args: Value) -> Value:
    return apply_transform(name, args, value)


# --- the dispatcher ----------------------------------------------------------------------

# One valid argument list per transformation, so each can be run on NULL input.
SAMPLE_ARGS: dict[str, Sequence[Value]] = {
    "s.substr": (0, 1),
    "s.select": (0, ","),
    "s.index": ("a",),
    "s.rindex": ("a",),
    "s.fill.left": ("0", 5),
    "s.fill.right": ("0", 5),
    "s.width": (3,),
    "s.xor": ("k",),
    "uri.param": ("transport",),
    "via.param": ("branch",),
    "param.value": ("a",),
    "param.exist": ("a",),
    "param.valueat": (0,),
    "param.name": (0,),
    "nameaddr.param": ("tag",),
    "ip.matches": ("10.0.0.0/8",),
    "csv.value": (0,),
    "re.subst": ("/a/b/",),
}


def _sample_args(name: str) -> Sequence[Value]:
    if name.endswith("_hmac"):
        return ("key",)
    return SAMPLE_ARGS.get(name, ())


def test_every_implemented_spec_has_a_function() -> None:
    implemented = {name for name, spec in TRANSFORM_SPECS.items() if spec.implemented}
    assert transform_names() == implemented


@pytest.mark.parametrize("name", sorted(transform_names()))
def test_null_input_gives_null(name: str) -> None:
    assert apply_transform(name, _sample_args(name), None) is None


def test_unknown_name_and_wrong_arity_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown transformation"):
        tr("s.nosuch", "x")
    with pytest.raises(ValueError, match="takes 2 argument"):
        tr("s.substr", "abc", 1)
    with pytest.raises(ValueError, match="takes 1 to 2"):
        tr("s.index", "abc")
    with pytest.raises(NotImplementedError):
        tr("sdp.line", "v=0", "m")


def test_null_or_non_numeric_arguments_give_null() -> None:
    assert tr("s.substr", "abcdef", None, 2) is None
    assert tr("s.substr", "abcdef", "x", 2) is None
    assert tr("s.substr", "abcdef", " 1 ", "2") == "bc"  # numeric text is a number
    assert tr("param.value", "a=1", None) is None


def test_chains_apply_left_to_right() -> None:
    chain = [("nameaddr.uri", ()), ("uri.user", ()), ("s.toupper", ()), ("s.len", ())]
    assert apply_transforms(chain, '"Bob" <sip:bobby@example.com>;tag=9') == 5
    assert apply_transforms([("uri.user", ()), ("s.len", ())], "sip:example.com") is None


# --- s.* ---------------------------------------------------------------------------------


def test_len_and_int() -> None:
    assert tr("s.len", "hello") == 5
    assert tr("s.len", "") == 0
    assert tr("s.len", 1234) == 4
    assert tr("s.len", -12) == 3
    assert tr("s.int", "12abc") == 12
    assert tr("s.int", "-7x") == -7
    assert tr("s.int", "abc") == 0
    assert tr("s.int", "") == 0
    assert tr("s.int", 42) == 42


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [
        (1, 2, "bc"),
        (0, 0, "abcdef"),
        (2, 0, "cdef"),
        (4, 10, "ef"),  # a length past the end is cut
        (-2, 0, "ef"),
        (-3, 1, "d"),
        (1, -1, "bcde"),  # stop one before the end
        (0, -6, ""),
        (6, 1, None),  # offset past the end
        (-7, 0, None),  # negative offset beyond the start
    ],
)
def test_substr(offset: int, length: int, expected: str | None) -> None:
    assert tr("s.substr", "abcdef", offset, length) == expected


def test_substr_of_empty_and_int_values() -> None:
    assert tr("s.substr", "", 0, 0) is None
    assert tr("s.substr", 123456, 2, 2) == "34"


@pytest.mark.parametrize(
    ("value", "index", "separator", "expected"),
    [
        ("a,b,c", 1, ",", "b"),
        ("a,b,c", -1, ",", "c"),
        ("a,b,c", -3, ",", "a"),
        ("a,b,c", 3, ",", None),
        ("a,b,c", -4, ",", None),
        ("a,,c", 1, ",", ""),  # an empty field is an empty string, not NULL
        ("a.b.c", 2, ".", "c"),
        ("abc", 0, ",", "abc"),
        ("", 0, ",", ""),
        ("x=1;y=2", 1, ";=", "y=2"),  # only the first character separates
    ],
)
def test_select(value: str, index: int, separator: str, expected: str | None) -> None:
    assert tr("s.select", value, index, separator) == expected


def test_select_with_comma_written_as_an_empty_position() -> None:
    # {s.select,1,,}: the separator position looks empty; a splitter may pass "" or "", "".
    assert tr("s.select", "a,b,c", 1, "") == "b"
    assert tr("s.select", "a,b,c", 2, "", "") == "c"
    with pytest.raises(ValueError):
        tr("s.select", "a,b,c", 2, "x", "")


def test_hashes_and_hmacs() -> None:
    assert tr("s.md5", "") == "d41d8cd98f00b204e9800998ecf8427e"
    assert tr("s.sha1", "abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert tr("s.sha256", "abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert tr("s.sha224", "abc") == "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
    assert len(str(tr("s.sha384", "abc"))) == 96
    assert len(str(tr("s.sha512", "abc"))) == 128
    # RFC 4231 test case 2
    assert tr("s.sha256_hmac", "what do ya want for nothing?", "Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert tr("s.sha1_hmac", "abc", "k1") != tr("s.sha1_hmac", "abc", "k2")


def _opensips_crc32(data: bytes) -> int:
    """The reflected CRC-32 OpenSIPS computes: initial 0xffffffff, no final inversion."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc


@pytest.mark.parametrize("text", ["", "a", "hello world", "INVITE sip:bob@example.com"])
def test_crc32_is_decimal_without_the_final_inversion(text: str) -> None:
    assert tr("s.crc32", text) == str(_opensips_crc32(text.encode()))


def test_reverse_and_case() -> None:
    assert tr("s.reverse", "abc") == "cba"
    assert tr("s.reverse", 120) == "021"
    assert tr("s.tolower", "SIP:Bob@EXAMPLE.com") == "sip:bob@example.com"
    assert tr("s.toupper", "invite") == "INVITE"
    assert tr("s.toupper", "é") == "é"  # ASCII only
    assert tr("s.tolower", 7) == "7"


def test_hexa_round_trip() -> None:
    assert tr("s.encode.hexa", "AZ\n") == "415a0a"
    assert tr("s.decode.hexa", "415A0a") == "AZ\n"
    assert tr("s.decode.hexa", tr("s.encode.hexa", "naïve")) == "naïve"
    assert tr("s.decode.hexa", "41g1") is None
    assert tr("s.decode.hexa", "414") is None  # a dangling nibble


@pytest.mark.parametrize("text", ["it's", 'say "hi"', "back\\slash", "nul\0byte", "plain", ""])
def test_escape_common_round_trip(text: str) -> None:
    escaped = tr("s.escape.common", text)
    assert isinstance(escaped, str)
    assert "\0" not in escaped
    assert tr("s.unescape.common", escaped) == text


def test_escape_common_exact_form() -> None:
    assert tr("s.escape.common", "a'b\"c\\d\0") == "a\\'b\\\"c\\\\d\\0"
    assert tr("s.unescape.common", "a\\qb\\") == "a\\qb\\"  # unknown escapes stay


def test_escape_user_and_param() -> None:
    assert tr("s.escape.user", "alice smith@home") == "alice%20smith%40home"
    assert tr("s.escape.user", "+1-555;x=y?") == "+1-555;x=y?"  # user-unreserved stays
    assert tr("s.escape.param", "a b;c=d") == "a%20b%3bc%3dd"
    assert tr("s.escape.param", "[v6]:/&+$") == "[v6]:/&+$"
    assert tr("s.escape.user", "tab\there") is None  # control characters are refused
    assert tr("s.escape.user", "café") is None


@pytest.mark.parametrize("text", ["alice smith@home", "a;b=c d", "%25 literal", ""])
def test_percent_escapes_round_trip(text: str) -> None:
    assert tr("s.unescape.user", tr("s.escape.user", text)) == text
    assert tr("s.unescape.param", tr("s.escape.param", text)) == text


def test_unescape_rejects_bad_escapes() -> None:
    assert tr("s.unescape.user", "a%4") is None
    assert tr("s.unescape.user", "a%zz") is None
    assert tr("s.unescape.param", "%0a") is None  # decodes to a control character
    assert tr("s.unescape.user", "%41%62") == "Ab"


def test_index_and_rindex() -> None:
    assert tr("s.index", "hello world", "o") == 4
    assert tr("s.index", "hello world", "o", 5) == 7
    assert tr("s.index", "hello world", "xyz") is None
    assert tr("s.index", "abcab", "b", -2) == 4  # start 3
    assert tr("s.index", "abcab", "b", -7) == 4  # wraps: -7 is -2 on five characters
    assert tr("s.index", "abcab", "a", -5) == 0
    assert tr("s.index", "abc", "c", 3) is None
    assert tr("s.rindex", "hello world", "o") == 7
    assert tr("s.rindex", "hello world", "o", 6) == 4
    assert tr("s.rindex", "abcab", "ab") == 3
    assert tr("s.rindex", "abcab", "ab", -3) == 0
    assert tr("s.rindex", "ab", "abc") is None
    assert tr("s.index", 12321, 2) == 1


def test_fill() -> None:
    assert tr("s.fill.left", "7", "0", 3) == "007"
    assert tr("s.fill.left", 42, "0", 5) == "00042"
    assert tr("s.fill.right", "ab", ".", 4) == "ab.."
    assert tr("s.fill.left", "xyz", "ab", 6) == "babxyz"  # the pad's end meets the value
    assert tr("s.fill.right", "xyz", "ab", 6) == "xyzaba"
    assert tr("s.fill.left", "toolong", "0", 3) == "toolong"


def test_width() -> None:
    assert tr("s.width", "abcdef", 3) == "abc"
    assert tr("s.width", "ab", 4) == "ab  "
    assert tr("s.width", 7, 2) == "7 "
    assert tr("s.width", "ab", 0) is None


def test_trim() -> None:
    assert tr("s.trim", " \t a b \r\n") == "a b"
    assert tr("s.trimr", "  a  ") == "  a"
    assert tr("s.triml", "  a  ") == "a  "
    assert tr("s.trim", "   ") == ""


def test_hex_and_decimal() -> None:
    assert tr("s.dec2hex", 255) == "ff"
    assert tr("s.dec2hex", "4096") == "1000"
    assert tr("s.dec2hex", -1) == "ffffffff"
    assert tr("s.dec2hex", "12ab") is None
    assert tr("s.hex2dec", "ff") == 255
    assert tr("s.hex2dec", "0x1F") == 31
    assert tr("s.hex2dec", "fg") is None
    assert tr("s.hex2dec", 17) == 17


def test_base64() -> None:
    assert tr("s.b64encode", "hello") == "aGVsbG8="
    assert tr("s.b64decode", "aGVsbG8=") == "hello"
    assert tr("s.b64decode", tr("s.b64encode", "ünïcode")) == "ünïcode"
    assert tr("s.b64decode", "a") is None
    binary = base64.b64encode(bytes(range(256))).decode()
    assert to_bytes(str(tr("s.b64decode", binary))) == bytes(range(256))


def test_xor_is_its_own_inverse() -> None:
    scrambled = tr("s.xor", "secret message", "key")
    assert scrambled != "secret message"
    assert tr("s.xor", scrambled, "key") == "secret message"
    assert to_bytes(str(tr("s.xor", "A", "a"))) == b"\x20"
    assert tr("s.xor", "abc", "") is None


def test_eval_uses_the_format_expander() -> None:
    calls: list[str] = []

    def expand(text: str) -> str:
        calls.append(text)
        return text.replace("$fU", "alice")

    assert apply_transform("s.eval", (), "user=$fU", expand=expand) == "user=alice"
    assert calls == ["user=$fU"]
    assert apply_transform("s.eval", (), "no variables") == "no variables"
    assert apply_transform("s.eval", (), "$x", expand=lambda text: None) is None


def test_date2unix() -> None:
    assert tr("s.date2unix", "Thu, 01 Jan 1970 00:00:00 GMT") == 0
    expected = 1289690940  # 2010-11-13T23:29:00Z
    assert tr("s.date2unix", "Sat, 13 Nov 2010 23:29:00 GMT") == expected
    assert tr("s.date2unix", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(expected)))
    assert tr("s.date2unix", "Sat, 31 Feb 2010 23:29:00 GMT") is None
    assert tr("s.date2unix", "Sat, 13 Nov 2010 23:29:00 +0100") is None
    assert tr("s.date2unix", "yesterday") is None


# --- uri.* -------------------------------------------------------------------------------

FULL_URI = "sip:alice:secret@Example.COM:5061;transport=tcp;lr;user=phone;ttl=5;maddr=10.0.0.1;method=INVITE;r2=on;X=y?Subject=hi&Priority=urgent"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("user", "alice"),
        ("passwd", "secret"),
        ("host", "Example.COM"),
        ("domain", "Example.COM"),
        ("port", 5061),
        ("params", "transport=tcp;lr;user=phone;ttl=5;maddr=10.0.0.1;method=INVITE;r2=on;X=y"),
        ("headers", "Subject=hi&Priority=urgent"),
        ("transport", "tcp"),
        ("ttl", "5"),
        ("uparam", "phone"),
        ("maddr", "10.0.0.1"),
        ("method", "INVITE"),
        ("lr", ""),  # present without a value
        ("r2", "on"),
        ("schema", "sip"),
    ],
)
def test_uri_fields(field: str, expected: Value) -> None:
    assert tr(f"uri.{field}", FULL_URI) == expected


@pytest.mark.parametrize(
    "field",
    ["user", "passwd", "port", "params", "headers", "transport", "ttl", "uparam", "maddr",
     "method", "lr", "r2"],
)  # fmt: skip
def test_absent_uri_parts_are_null(field: str) -> None:
    assert tr(f"uri.{field}", "sip:example.com") is None


def test_uri_param() -> None:
    assert tr("uri.param", FULL_URI, "x") == "y"  # names are case-insensitive
    assert tr("uri.param", FULL_URI, "lr") == ""
    assert tr("uri.param", FULL_URI, "nosuch") is None
    assert tr("uri.param", "sip:example.com", "lr") is None


def test_other_uri_shapes() -> None:
    assert tr("uri.host", "sips:[2001:db8::1]:5061") == "[2001:db8::1]"
    assert tr("uri.port", "sips:[2001:db8::1]:5061") == 5061
    assert tr("uri.schema", "sips:bob@example.com") == "sips"
    assert tr("uri.user", "tel:+1-555-0100;phone-context=example.com") == "+1-555-0100"
    assert tr("uri.host", "tel:+15550100") is None
    assert tr("uri.param", "tel:+15550100;ext=12", "ext") == "12"
    assert tr("uri.user", "sip:+1555;npdi@host") == "+1555;npdi"  # user params stay in user


@pytest.mark.parametrize(
    "bad", ["", "http://example.com", "sip:", "sip:host:99999", "sip:host:port", "alice"]
)
def test_unreadable_uris_are_null(bad: str) -> None:
    assert tr("uri.host", bad) is None
    assert tr("uri.user", bad) is None


# --- via.* -------------------------------------------------------------------------------

VIA = "SIP / 2.0 / UDP 192.0.2.4:5066;branch=z9hG4bK776;rport;received=198.51.100.7 (softphone 1.0), SIP/2.0/TCP other"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("name", "SIP"),
        ("version", "2.0"),
        ("transport", "UDP"),
        ("host", "192.0.2.4"),
        ("domain", "192.0.2.4"),
        ("port", 5066),
        ("params", "branch=z9hG4bK776;rport;received=198.51.100.7"),
        ("comment", "softphone 1.0"),
        ("branch", "z9hG4bK776"),
        ("received", "198.51.100.7"),
        ("rport", None),  # present but empty reads NULL through {via.rport}
    ],
)
def test_via_fields(field: str, expected: Value) -> None:
    assert tr(f"via.{field}", VIA) == expected


def test_via_param_and_absent_parts() -> None:
    assert tr("via.param", VIA, "rport") == ""
    assert tr("via.param", VIA, "BRANCH") == "z9hG4bK776"
    assert tr("via.param", VIA, "maddr") is None
    assert tr("via.rport", "SIP/2.0/UDP h;rport=5070") == "5070"
    plain = "SIP/2.0/TLS [2001:db8::9]"
    assert tr("via.host", plain) == "[2001:db8::9]"
    assert tr("via.port", plain) is None
    assert tr("via.branch", plain) is None
    assert tr("via.comment", plain) is None


@pytest.mark.parametrize("bad", ["", "ab", "SIP/2.0 host", "garbage", "SIP/2.0/UDP"])
def test_unreadable_vias_are_null(bad: str) -> None:
    assert tr("via.host", bad) is None


# --- param.* -----------------------------------------------------------------------------


def test_param_family() -> None:
    params = 'a=1;B=two;flag;q="x;y"'
    assert tr("param.value", params, "b") == "two"
    assert tr("param.value", params, "flag") == ""
    assert tr("param.value", params, "q") == "x;y"
    assert tr("param.value", params, "none") is None
    assert tr("param.exist", params, "FLAG") == 1
    assert tr("param.exist", params, "none") == 0
    assert tr("param.count", params) == 4
    assert tr("param.name", params, 1) == "B"
    assert tr("param.name", params, -1) == "q"
    assert tr("param.valueat", params, 0) == "1"
    assert tr("param.valueat", params, -2) == ""
    assert tr("param.valueat", params, 4) is None
    assert tr("param.name", params, -5) is None
    assert tr("param.count", ";lr;transport=udp") == 2


def test_param_family_on_empty_input() -> None:
    assert tr("param.count", "") is None
    assert tr("param.exist", "", "a") is None
    assert tr("param.value", "a=1;=2", "a") is None  # a nameless parameter is malformed


# --- nameaddr.* --------------------------------------------------------------------------

CONTACTS = '"Smith, Bob" <sip:bob@example.com;transport=tcp>;q=0.7;expires=60, <sip:bob@192.0.2.1>, Alice <sip:alice@example.org>;+sip.instance="<urn:uuid:1>"'


def test_nameaddr_fields_of_the_first_entry() -> None:
    assert tr("nameaddr.name", CONTACTS) == '"Smith, Bob"'
    assert tr("nameaddr.uri", CONTACTS) == "sip:bob@example.com;transport=tcp"
    assert tr("nameaddr.params", CONTACTS) == "q=0.7;expires=60"
    assert tr("nameaddr.param", CONTACTS, "expires") == "60"
    assert tr("nameaddr.len", CONTACTS) == len('"Smith, Bob" <sip:bob@example.com;transport=tcp>')


def test_indexed_nameaddr() -> None:
    assert tr("nameaddr.1.uri", CONTACTS) == "sip:bob@192.0.2.1"
    assert tr("nameaddr.1.name", CONTACTS) is None
    assert tr("nameaddr.1.params", CONTACTS) is None
    assert tr("nameaddr.-1.name", CONTACTS) == "Alice"
    assert tr("nameaddr.-1.param", CONTACTS, "+sip.instance") == "<urn:uuid:1>"
    assert tr("nameaddr.2.uri", CONTACTS) == tr("nameaddr.-1.uri", CONTACTS)
    assert tr("nameaddr.0.uri", CONTACTS) == tr("nameaddr.uri", CONTACTS)
    assert tr("nameaddr.3.uri", CONTACTS) is None
    assert tr("nameaddr.-4.uri", CONTACTS) is None


def test_nameaddr_shapes() -> None:
    addr_spec = "sip:carol@example.net;tag=abc"
    assert tr("nameaddr.uri", addr_spec) == "sip:carol@example.net"  # params are the header's
    assert tr("nameaddr.param", addr_spec, "tag") == "abc"
    assert tr("nameaddr.len", addr_spec) == len("sip:carol@example.net")
    assert tr("nameaddr.name", addr_spec) is None
    assert tr("nameaddr.param", "<sip:a@b>;Tag=1", "tag") is None  # case-sensitive
    assert tr("nameaddr.param", "<sip:a@b>;flag", "flag") is None  # empty reads NULL
    assert tr("nameaddr.name", '"Quote \\" inside" <sip:q@b>') == '"Quote \\" inside"'


@pytest.mark.parametrize("bad", ["", '"unclosed <sip:a@b>', "<sip:a@b", "<sip:a@b> junk", "a,,b"])
def test_unreadable_nameaddrs_are_null(bad: str) -> None:
    assert tr("nameaddr.uri", bad) is None


# --- csv.* -------------------------------------------------------------------------------


def test_csv() -> None:
    assert tr("csv.count", "a,b,c") == 3
    assert tr("csv.value", "a,b,c", 1) == "b"
    assert tr("csv.value", "a,b,c", -1) == "c"
    assert tr("csv.value", "a,b,c", 3) is None
    assert tr("csv.value", "a,b,c", -4) is None
    assert tr("csv.count", "a,,,") == 4
    assert tr("csv.value", 'x,"quoted, with ""quotes""",z', 1) == 'quoted, with "quotes"'
    assert tr("csv.value", " a , b ", 1) == " b "  # RFC 4180 keeps blanks
    assert tr("csv.count", "a,b\r\n") == 2


@pytest.mark.parametrize("bad", ["", '"open', '"a" ,b', '"a"a,b', "tab\there"])
def test_malformed_csv_is_null(bad: str) -> None:
    assert tr("csv.count", bad) is None


# --- re.subst ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        (r"/^sip:([^@]+)@(.*)$/\2 has \1/", "sip:bob@example.com", "example.com has bob"),
        ("/a/b/", "banana", "bbnana"),
        ("/a/b/g", "banana", "bbnbnb"),
        ("/A/x/gi", "banana", "bxnxnx"),
        ("/A/x/g", "banana", "banana"),  # no match: unchanged
        (r"#/#\\#g", "a/b/c", "a\\b\\c"),  # another delimiter, a backslash in the text
        (r"/\//-/g", "a/b", "a-b"),  # an escaped delimiter in the expression
        (r"/(b)(c)?/[\1|\2]/", "abd", "a[b|]d"),  # an unmatched group is empty
        (r"/b/\0\0/", "abc", "abbc"),
        (r"/ /\n/g", "a b", "a\nb"),
        ("/[[:digit:]]+/#/g", "a12b3", "a#b#"),
        ("/x\\{2\\}/y/", "axxb", "ayb"),  # braces escaped inside {...}
        ("/^b/_/g", "ab\nbc", "ab\n_c"),  # without s: ^ matches after a newline
        ("/a.b/X/", "a\nb", "a\nb"),  # without s: . does not match a newline
        ("/a.b/X/s", "a\nb", "X"),
        ("/^b/_/gs", "ab\nbc", "ab\nbc"),
    ],
)
def test_re_subst(expression: str, value: str, expected: str) -> None:
    assert tr("re.subst", value, expression) == expected


@pytest.mark.parametrize(
    "expression", ["", "/a", "/a/b", "/a/b/q", r"\a\b\\", "/(a/b/", r"/a/\2/", r"/a/\u/"]
)
def test_malformed_substitutions_are_null(expression: str) -> None:
    assert tr("re.subst", "abc", expression) is None


def test_re_subst_expands_variables_in_the_replacement() -> None:
    def expand(text: str) -> str:
        return {"$var(host)": "proxy.example", "$rU": "42"}.get(text, "?")

    result = apply_transform("re.subst", ("/@.*$/@$var(host);u=$rU/",), "bob@x", expand=expand)
    assert result == "bob@proxy.example;u=42"
    escaped = apply_transform("re.subst", (r"/x/\$rU/",), "x", expand=expand)
    assert escaped == "$rU"


# --- ip.* --------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["192.0.2.1", "0.0.0.0", "2001:db8::1", "::1", "fe80::a:b"])
def test_pton_ntop_round_trip(address: str) -> None:
    packed = tr("ip.pton", address)
    assert isinstance(packed, str)
    assert len(to_bytes(packed)) == (16 if ":" in address else 4)
    assert tr("ip.ntop", packed) == address
    assert tr("ip.family", packed) == ("INET6" if ":" in address else "INET")


def test_pton_and_family_errors() -> None:
    assert tr("ip.pton", "999.1.1.1") is None
    assert tr("ip.ntop", "abc") is None
    assert tr("ip.family", "192.0.2.1") is None  # text, not binary
    assert to_bytes(str(tr("ip.pton", "10.0.0.129"))) == bytes([10, 0, 0, 129])


def test_isip() -> None:
    assert (tr("ip.isip", "10.1.2.3"), tr("ip.isip4", "10.1.2.3"), tr("ip.isip6", "10.1.2.3")) == (
        1,
        1,
        0,
    )
    assert (tr("ip.isip", "::1"), tr("ip.isip4", "::1"), tr("ip.isip6", "[::1]")) == (1, 0, 1)
    assert (tr("ip.isip", "example.com"), tr("ip.isip", "1.2.3"), tr("ip.isip", 5)) == (0, 0, 0)


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("10.0.0.1", 1),
        ("172.16.5.4", 1),
        ("172.32.0.1", 0),
        ("192.168.1.1", 1),
        ("100.64.0.1", 1),
        ("127.0.0.1", 1),
        ("192.0.0.1", 0),  # RFC 6333 space is not counted by this transformation
        ("8.8.8.8", 0),
        ("fd00::1", 0),
        ("nonsense", 0),
    ],
)
def test_isprivate(address: str, private: int) -> None:
    assert tr("ip.isprivate", address) == private


def test_matches() -> None:
    assert tr("ip.matches", "10.1.2.3", "10.0.0.0/8") == 1
    assert tr("ip.matches", "11.1.2.3", "10.0.0.0/8") == 0
    assert tr("ip.matches", "192.168.1.77", "192.168.1.64/26") == 1
    assert tr("ip.matches", "2001:db8::5", "2001:db8::/32") == 1
    assert tr("ip.matches", "1.2.3.4", "0.0.0.0/0") == 1
    assert tr("ip.matches", "10.0.0.1", "10.0.0.0/33") is None
    assert tr("ip.matches", "10.0.0.1", "10.0.0.0") is None
    assert tr("ip.matches", "10.0.0.1", "2001:db8::/32") is None
    assert tr("ip.matches", "host", "10.0.0.0/8") is None


def test_resolve_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(host: str) -> str | None:
        raise AssertionError(f"looked up {host!r}")

    monkeypatch.setattr(net, "_lookup", no_network)
    assert tr("ip.resolve", "192.0.2.10") == "192.0.2.10"  # a literal needs no lookup
    assert tr("ip.resolve", "[2001:db8::1]") == "2001:db8::1"

    monkeypatch.setattr(net, "_lookup", {"sip.example": "198.51.100.2"}.get)
    assert tr("ip.resolve", "sip.example") == "198.51.100.2"
    assert tr("ip.resolve", "unknown.example") is None


def test_resolve_gives_up_after_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(host: str) -> str:
        time.sleep(0.5)
        return "192.0.2.99"

    monkeypatch.setattr(net, "_lookup", slow)
    started = time.monotonic()
    assert net.ip_resolve("slow.example", timeout=0.05) is None
    assert time.monotonic() - started < 0.4


# --- properties --------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)


@settings(max_examples=30, deadline=None)
@given(value=st.one_of(TEXT, st.integers()))
def test_no_transformation_raises_on_any_input(value: int | str) -> None:
    for name in sorted(transform_names() - {"ip.resolve"}):
        result = apply_transform(name, _sample_args(name), value)
        assert result is None or isinstance(result, int | str), name


@given(TEXT)
def test_byte_encodings_round_trip(text: str) -> None:
    assert tr("s.decode.hexa", tr("s.encode.hexa", text)) == text
    assert tr("s.b64decode", tr("s.b64encode", text)) == text
    assert tr("s.unescape.common", tr("s.escape.common", text)) == text
    assert tr("s.xor", tr("s.xor", text, "k3y"), "k3y") == text


@given(PRINTABLE)
def test_percent_escapes_round_trip_on_printable_ascii(text: str) -> None:
    for family in ("user", "param"):
        escaped = tr(f"s.escape.{family}", text)
        assert isinstance(escaped, str) and " " not in escaped
        assert tr(f"s.unescape.{family}", escaped) == text


@given(st.lists(PRINTABLE, min_size=1, max_size=6))
def test_csv_reads_what_the_csv_module_writes(fields: list[str]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    record = buffer.getvalue()
    if record == "":
        return  # a lone empty field is written as nothing: empty input is NULL
    assert tr("csv.count", record) == len(fields)
    for index, field in enumerate(fields):
        assert tr("csv.value", record, index) == field
        assert tr("csv.value", record, index - len(fields)) == field


@given(text=PRINTABLE, needle=st.text("abc", min_size=1, max_size=3))
def test_global_literal_substitution_is_replace(text: str, needle: str) -> None:
    assert tr("re.subst", text, f"/{needle}/<>/g") == text.replace(needle, "<>")
