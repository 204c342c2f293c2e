"""Derived data kept between runs in the user's cache folder, so `sipc check` starts fast.

What is kept here is always rebuilt from the sources when it is missing, stale or
unreadable: the file name carries a hash of everything it was derived from, so an old
entry is never read for new sources, and a write is a rename of a finished file, so two
processes racing each other never see half a file. A folder that cannot be written
(read-only, full disk) only means every run builds the data itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Iterable

# Bumped when the layout of what is stored changes, so older files are never read.
FORMAT = "1"


def cache_dir() -> str:
    """`SIPC_CACHE_DIR`, else `$XDG_CACHE_HOME/sipc`, else `~/.cache/sipc`."""
    return os.environ.get("SIPC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sipc"
    )


def key(parts: Iterable[str | bytes]) -> str:
    """A short hex digest naming one derived file (with this format and Python's version)."""
    digest = hashlib.sha256(f"{FORMAT}:{sys.version_info[:2]}".encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        # the length first, so ("ab", "c") and ("a", "bc") differ
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:32]


def read(name: str) -> bytes | None:
    """The stored bytes of `name`, or None when absent or unreadable."""
    try:
        with open(os.path.join(cache_dir(), name), "rb") as f:
            return f.read()
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Store `data` as `name`, all at once; failures are ignored (the cache is optional)."""
    folder = cache_dir()
    target = os.path.join(folder, name)
    temp = f"{target}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        os.makedirs(folder, exist_ok=True)
        with open(temp, "xb") as f:
            f.write(data)
        os.replace(temp, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
