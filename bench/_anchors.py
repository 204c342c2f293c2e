"""What the in-process benches share: a bench anchor as run-proxy.sh renders it, built with
`sipc build` and imported, so every bench measures the very script OpenSIPS runs; the
server's collector settings; the profiling options."""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import pstats
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from runtime.transport.socketinfo import SocketInfo

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT.parent / "shared" / "bench" / "anchors" / "opensips"


def render(anchor: Path, proxy: SocketInfo) -> str:
    """The anchor's text with run-proxy.sh's placeholders filled in for `proxy`."""
    text = anchor.read_text()
    for placeholder, value in (
        ("@LISTEN_IP@", proxy.ip),
        ("@LISTEN_PORT@", str(proxy.port)),
        ("@CHILDREN@", "1"),
        ("@MPATH@", "/nonexistent"),
    ):
        text = text.replace(placeholder, value)
    return text


def build_anchor(
    anchor: Path,
    proxy: SocketInfo,
    workdir: str,
    *,
    edit: Callable[[str], str] | None = None,
    reuse: bool = False,
) -> ModuleType:
    """`sipc build` the rendered anchor (after `edit`, if given) into `workdir` and import
    the route module; `reuse`: import the module built there before, as it is."""
    text = render(anchor, proxy)
    if edit is not None:
        text = edit(text)
    cfg = Path(workdir) / anchor.name
    built = cfg.with_suffix(".py")
    if not reuse or not built.exists():
        cfg.write_text(text)
        sipc = Path(sys.executable).with_name("sipc")
        subprocess.run(
            [str(sipc), "build", str(cfg), "-o", workdir], check=True, capture_output=True
        )
    spec = importlib.util.spec_from_file_location(f"bench_{anchor.stem}", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def collect_like_the_server() -> None:
    """The server's collector settings (runtime/server.py): what is loaded is frozen out
    of the scans, generation 0 is collected every GC_THRESHOLD allocations."""
    from runtime.server import GC_THRESHOLD

    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)


def add_profile_options(parser: argparse.ArgumentParser) -> None:
    """--profile, --built, --sort, --lines, --profile-out, as every in-process bench takes them."""
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--built", metavar="DIR", help="build the route module in DIR once, then reuse it"
    )
    parser.add_argument("--sort", default="tottime", help="cProfile order (tottime, cumtime)")
    parser.add_argument("--lines", type=int, default=40, help="cProfile rows printed")
    parser.add_argument("--profile-out", help="also write the cProfile data to this file")


def print_profile(options: argparse.Namespace, one_pass: Callable[[], object]) -> None:
    """Run `one_pass` under cProfile and print (and with --profile-out, save) the figures."""
    profiler = cProfile.Profile()
    profiler.enable()
    one_pass()
    profiler.disable()
    stats = pstats.Stats(profiler)
    if options.profile_out:
        stats.dump_stats(options.profile_out)
    stats.sort_stats(options.sort).print_stats(options.lines)
