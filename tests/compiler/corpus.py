"""The OpenSIPS script corpus (../shared/corpus/opensips) and what its README says of each file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "opensips"


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    dialect: str
    notes: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def rejected_at(self) -> int | None:
        """The line OpenSIPS 3.6.8's own parser rejects, when the README says it does."""
        m = re.search(r"rejected by OpenSIPS [0-9.]+'s own parser at line (\d+)", self.notes)
        return int(m.group(1)) if m else None


def corpus_files() -> list[CorpusFile]:
    readme = CORPUS / "README.md"
    if not readme.is_file():
        return []
    out = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        path = CORPUS / cells[0].strip("`")
        if path.is_file():
            out.append(CorpusFile(path, cells[4], cells[6]))
    return out


def scripts() -> list[CorpusFile]:
    """Every file that is a script (raw m4 templates need m4 first)."""
    return [f for f in corpus_files() if f.dialect != "3.x+m4"]
