"""`sipc build`: check a script, generate its module, format it, and write it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from compiler.codegen import Unsupported, generate
from compiler.diagnostics import Diagnostic, make
from compiler.driver import Analysis, analyze
from compiler.emit import finish


@dataclass
class BuildResult:
    analysis: Analysis
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: str | None = None
    output: Path | None = None

    @property
    def ok(self) -> bool:
        return self.source is not None and not any(d.severity == "error" for d in self.diagnostics)


def module_name(script_path: str) -> str:
    """`proxy.cfg` -> `proxy`; a name Python can import (`my-proxy.cfg` -> `my_proxy`)."""
    stem = Path(script_path).stem
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in stem)
    return out if out and not out[0].isdigit() else "script_" + out


def compile_script(
    path: str, *, display: str | None = None, text: str | None = None
) -> BuildResult:
    """Check and generate; nothing is written. The source is None when there are errors.

    `text` stands for the file's content when given (the file need not exist)."""
    analysis = analyze(path, display=display, text=text)
    result = BuildResult(analysis, list(analysis.diagnostics))
    script = analysis.parse.script
    if analysis.errors or script is None or not analysis.parse.ok:
        return result
    name = display or path
    text = analysis.parse.source_map.texts.get(name, "")
    try:
        generated = generate(script, os.path.basename(name), text)
    except Unsupported as exc:
        result.diagnostics.append(make("unsupported", exc.span, exc.message))
        return result
    result.source = finish(generated.source)
    return result


def write(result: BuildResult, out_dir: str, script_path: str) -> Path:
    assert result.source is not None
    target = Path(out_dir) / f"{module_name(script_path)}.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".py.tmp")
    tmp.write_text(result.source, encoding="utf-8")
    tmp.replace(target)
    return target


def run_mypy(path: Path) -> tuple[bool, str]:
    """mypy --strict on a generated module, with sipc's own packages importable.

    mypy runs in the module's folder (its cache goes there), so it is given the absolute
    path: a relative `-o` names the folder from where sipc was started, not from there."""
    path = path.resolve()
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    env["MYPYPATH"] = str(root) + os.pathsep + env.get("MYPYPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--follow-imports=silent",
         "--cache-dir", str(path.parent / ".mypy_cache"), str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(path.parent),
        check=False,
    )  # fmt: skip
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def cache_dir() -> str:
    """Where `sipc run script.cfg` keeps the module it compiles (SIPC_CACHE_DIR overrides)."""
    base = os.environ.get("SIPC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sipc"
    )
    return base
