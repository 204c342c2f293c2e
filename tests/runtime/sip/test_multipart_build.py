"""Building and editing multipart bodies: join, append_part, remove_parts round-trip
through split, and every byte outside the edited part stays."""

from __future__ import annotations

from runtime.sip import multipart

CT = "multipart/mixed;boundary=xyz"


def test_join_splits_back_into_the_same_parts() -> None:
    body = multipart.join("xyz", [(["Content-Type: application/sdp"], b"v=0\r\n"), ([], b"hi")])
    parts = multipart.split(CT, body)
    assert parts is not None
    assert [(p.media_type, p.body) for p in parts] == [
        ("application/sdp", b"v=0\r\n"),
        ("text/plain", b"hi"),
    ]
    assert body.endswith(b"--xyz--\r\n")


def test_append_goes_above_the_close_delimiter() -> None:
    body = b"pre\r\n" + multipart.join("xyz", [([], b"a")]) + b"epilogue"
    parts = multipart.split(CT, body)
    assert parts is not None
    added = multipart.part_bytes("xyz", ["Content-Type: text/html"], b"<b/>")
    edited = multipart.append_part(body, parts, added)
    assert edited.startswith(b"pre\r\n--xyz\r\n\r\na\r\n--xyz\r\nContent-Type: text/html")
    assert edited.endswith(b"--xyz--\r\nepilogue")
    again = multipart.split(CT, edited)
    assert again is not None and [p.body for p in again] == [b"a", b"<b/>"]


def test_remove_parts_keeps_the_others_byte_for_byte() -> None:
    body = multipart.join("xyz", [([], b"one"), ([], b"two"), ([], b"three")])
    parts = multipart.split(CT, body)
    assert parts is not None
    edited = multipart.remove_parts(body, [parts[2], parts[0]])
    assert edited == multipart.join("xyz", [([], b"two")])
