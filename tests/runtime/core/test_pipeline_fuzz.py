"""Fuzzing the serving path: whatever arrives, `Pipeline.receive` returns, and no library
function fails on it.

`samples/proxy.cfg` (maxfwd, registrar, record-route, stateful relay, a failure route) is
compiled and fed the SIP corpus, as it is and mutated, each message twice (the second is
a retransmission). A message may be routed, answered, or counted as malformed; nothing may
escape `receive()` (in the server that is a traceback from the serving loop), and the
script may not fail: a script error on a correct script means a library function raised
on a message instead of returning an error code.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.build import compile_script
from runtime.core.nexthop import next_hop, resolve_host
from runtime.core.pipeline import Pipeline
from runtime.transport.source import Source
from runtime.usrloc import TABLES
from stdlib._modules import reset_modparams
from tests.conftest import ROOT, shared_dir
from tests.runtime.core.test_pipeline import UDP, RecordingSender
from tests.runtime.sip.test_fuzz import mutated

PEER = Source(UDP, "127.0.0.1", 5062)


class Failures(logging.Handler):
    """Every log record that carries an exception: what the server would print as a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


def _no_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
    """getaddrinfo without the network: encode the name as the real call does first (which
    raises on what IDNA cannot encode), then fail as an unknown name."""
    if isinstance(host, str):
        if "\x00" in host:
            raise ValueError("embedded null character")
        host.encode("idna")
    raise socket.gaierror(socket.EAI_NONAME, "no DNS in the tests")


def corpus_seeds() -> list[bytes]:
    """Every message of ../shared/corpus/sip, as it is (a skip when the corpus is absent)."""
    corpus = shared_dir("corpus", "sip")
    return [path.read_bytes() for path in sorted(corpus.glob("*.sip"))]


def load_script(path: Path, into: Path, name: str) -> ModuleType:
    """`sipc build` `path` in-process into `into/name.py` and import it."""
    result = compile_script(str(path))
    assert result.source is not None, [d.message for d in result.diagnostics]
    target = into / f"{name}.py"
    target.write_text(result.source)
    spec = importlib.util.spec_from_file_location(name, target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def serving(module: ModuleType) -> Iterator[tuple[Pipeline, RecordingSender, Failures]]:
    """The script's pipeline as the server prepares it, without DNS, with every logged
    exception collected; the module state (tables, modparams) reset afterwards."""
    patch = pytest.MonkeyPatch()
    patch.setattr(socket, "getaddrinfo", _no_dns)
    resolve_host.cache_clear()
    next_hop.cache_clear()
    failures = Failures()
    logging.getLogger().addHandler(failures)
    try:
        for prepare in module.ROUTES.prepare:
            prepare()
        pipeline = Pipeline(module.ROUTES)
        sender = RecordingSender()
        pipeline.attach(sender)
        yield pipeline, sender, failures
    finally:
        logging.getLogger().removeHandler(failures)
        patch.undo()
        resolve_host.cache_clear()
        next_hop.cache_clear()
        TABLES.reset()
        reset_modparams()


@pytest.fixture(scope="module")
def seeds() -> list[bytes]:
    return corpus_seeds()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, Failures]]:
    module = load_script(
        ROOT / "samples" / "proxy.cfg", tmp_path_factory.mktemp("fuzz"), "fuzz_proxy"
    )
    with serving(module) as (pipeline, _, failures):
        yield pipeline, failures


def receive_twice(pipeline: Pipeline, failures: Failures, data: bytes) -> None:
    before = pipeline.stats.script_errors
    for _ in range(2):
        pipeline.receive(data, PEER)  # nothing may escape
    assert pipeline.stats.script_errors == before, failures.records[-1:]
    assert not failures.records, [
        logging.Formatter().format(record) for record in failures.records[:1]
    ]


def test_corpus_messages_as_they_are(proxy: tuple[Pipeline, Failures], seeds: list[bytes]) -> None:
    pipeline, failures = proxy
    for data in seeds:
        receive_twice(pipeline, failures, data)
    assert pipeline.stats.requests + pipeline.stats.replies + pipeline.stats.malformed >= len(seeds)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_corpus_messages(
    proxy: tuple[Pipeline, Failures], seeds: list[bytes], data: st.DataObject
) -> None:
    pipeline, failures = proxy
    receive_twice(pipeline, failures, data.draw(mutated(seeds)))


def request(start_line: bytes, method: bytes) -> bytes:
    """A request to bob with every header a proxy checks, after `start_line`."""
    return start_line + (
        b"\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-hand\r\n"
        b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.2>\r\n"
        b"Call-ID: by-hand\r\nCSeq: 1 " + method + b"\r\nMax-Forwards: 70\r\n"
        b"Content-Length: 0\r\n\r\n"
    )


def test_a_method_that_is_not_a_token_is_malformed(proxy: tuple[Pipeline, Failures]) -> None:
    pipeline, failures = proxy
    sender = pipeline.sender
    assert isinstance(sender, RecordingSender)
    data = request(b"INV\xe4TE sip:bob@127.0.0.2 SIP/2.0", b"INVITE")
    malformed = pipeline.stats.malformed
    receive_twice(pipeline, failures, data)
    assert pipeline.stats.malformed == malformed + 2
    assert sender.replies[-1][1].startswith(b"SIP/2.0 400 ")


@pytest.mark.parametrize("blank", [b"\t", b"\r", b"\n"])
def test_a_request_uri_with_a_tab_or_a_bare_line_break_is_malformed(
    proxy: tuple[Pipeline, Failures], blank: bytes
) -> None:
    pipeline, failures = proxy
    data = request(b"OPTIONS sip:bob" + blank + b"@127.0.0.2 SIP/2.0", b"OPTIONS")
    malformed = pipeline.stats.malformed
    receive_twice(pipeline, failures, data)
    assert pipeline.stats.malformed == malformed + 2


def test_a_host_the_resolver_cannot_encode_is_no_address(proxy: tuple[Pipeline, Failures]) -> None:
    assert resolve_host("exa\udce4mple.com") is None
    assert resolve_host("a" * 64 + ".example.com") is None  # an IDNA label of 64 octets
    assert resolve_host("bad\x00.example.com") is None
