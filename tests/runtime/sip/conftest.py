"""Fixtures for the SIP layer tests: the shared SIP message corpus beside the checkout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "sip"


@pytest.fixture(scope="session")
def sip_corpus_dir() -> Path:
    if not (CORPUS_DIR / "manifest.tsv").is_file():
        pytest.skip(f"SIP corpus not found at {CORPUS_DIR} (../shared/corpus/sip beside the checkout)")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def corpus_message(sip_corpus_dir: Path) -> Callable[[str], bytes]:
    """Reads one corpus file's exact bytes by name."""

    def read(name: str) -> bytes:
        return (sip_corpus_dir / name).read_bytes()

    return read


@pytest.fixture(scope="session")
def corpus_seeds(sip_corpus_dir: Path) -> list[bytes]:
    """Every .sip file of the corpus, for mutation."""
    return [path.read_bytes() for path in sorted(sip_corpus_dir.glob("*.sip"))]
