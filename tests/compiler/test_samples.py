"""Every sample, and every bench anchor OpenSIPS runs, checks clean, builds, and passes mypy.

The anchors (../shared/bench/anchors/opensips/*.cfg) are compiled unchanged apart from the
placeholders run-proxy.sh fills in (listen address, workers, module path).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compiler.build import compile_script

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.cfg"))
ANCHORS = ROOT.parent / "shared" / "bench" / "anchors" / "opensips"
PLACEHOLDERS = {
    "@LISTEN_IP@": "127.0.0.1",
    "@LISTEN_PORT@": "15060",
    "@CHILDREN@": "1",
    "@MPATH@": "/usr/local/lib64/opensips/modules/",
}


def anchor_texts() -> dict[str, str]:
    if not ANCHORS.is_dir():
        return {}
    out = {}
    for path in sorted(ANCHORS.glob("*.cfg")):
        text = path.read_text(encoding="utf-8")
        for key, value in PLACEHOLDERS.items():
            text = text.replace(key, value)
        out[path.name] = text
    return out


def test_samples_and_anchors_build_mypy_clean(tmp_path: Path) -> None:
    assert {p.name for p in SAMPLES} >= {
        "proxy.cfg",
        "stateless.cfg",
        "stateful.cfg",
        "registrar.cfg",
    }
    sources: dict[str, str] = {}
    for path in SAMPLES:
        result = compile_script(str(path))
        assert result.source is not None and not result.diagnostics, [
            f"{d.span}: {d.message}" for d in result.diagnostics
        ]
        sources[f"sample_{path.stem}"] = result.source
    anchors = anchor_texts()
    if not anchors:
        pytest.skip(f"{ANCHORS} is absent: the bench anchors are not beside this checkout")
    assert set(anchors) == {"stateless.cfg", "stateful.cfg", "registrar.cfg"}
    for name, text in anchors.items():
        result = compile_script(str(ANCHORS / name), text=text)
        errors = [d for d in result.diagnostics if d.severity == "error"]
        assert result.source is not None and not errors, [f"{d.span}: {d.message}" for d in errors]
        sources[f"anchor_{Path(name).stem}"] = result.source
    for module, source in sources.items():
        (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(tmp_path / ".mypy_cache"), *sorted(map(str, tmp_path.glob("*.py")))],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
