"""Writing files so that a crash never leaves half of one: a temp file beside the target,
flushed to disk, then renamed over it (or linked to it, for a file that must be new)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def _temp_beside(path: Path, text: str) -> Iterator[str]:
    """A private temp file beside ``path`` holding ``text`` on disk; removed afterwards if
    it is still there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        yield tmp
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> Path:
    """Writes ``text`` to ``path`` (parent folders created), readable by all (0644)."""
    with _temp_beside(path, text) as tmp:
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    return path


def write_new_private(path: Path, text: str) -> Path:
    """Writes a new file private to the user (0600), whole or not at all; never replaces one
    (``FileExistsError``)."""
    with _temp_beside(path, text) as tmp:
        os.link(tmp, path)
    return path
