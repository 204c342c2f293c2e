"""A runtime error inside a compiled route names the script file, line and route in the log."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

from compiler.build import compile_script
from runtime.core.pipeline import Pipeline
from runtime.transport.source import Source
from tests.runtime.core.test_pipeline import UDP, RecordingSender, request

SCRIPT = """\
loadmodule "sl.so"

route {
    $var(n) = "not a number";
    route(trim);
}

route[trim] {
    strip($var(n));
}
"""


def test_the_log_names_file_line_and_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("proxy.cfg").write_text(SCRIPT)
    result = compile_script("proxy.cfg")
    assert result.source is not None, [d.message for d in result.diagnostics]
    module_path = tmp_path / "proxy_routes.py"
    module_path.write_text(result.source)
    spec = importlib.util.spec_from_file_location("proxy_routes", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    pipeline = Pipeline(module.ROUTES)
    sender = RecordingSender()
    pipeline.attach(sender)
    with caplog.at_level(logging.ERROR):
        pipeline.receive(request(), Source(UDP, "10.0.0.1", 5062))
    assert pipeline.stats.script_errors == 1
    assert "at proxy.cfg:9 in route[trim]" in caplog.text
    assert "at proxy.cfg:5 in route" in caplog.text  # the caller's line too
