"""Atomic file writes: a temp file in the same directory, then a rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ner_rnn.errors import NerError


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(temp_path)`, then rename the temp file over `path`.

    Readers see the old file or the new one, never a half-written one; a failed write
    leaves the old file untouched and no temp file behind.
    """
    path = Path(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as error:
        raise NerError(f"{path}: cannot write ({error.strerror})") from None
    try:
        write(Path(temp))
        os.replace(temp, path)
    except OSError as error:
        raise NerError(f"{path}: cannot write ({error.strerror})") from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` as UTF-8 to `path` atomically."""
    atomic_write(path, lambda temp: temp.write_text(text, encoding="utf-8"))
