"""Where a training run writes its model directory, so that it changes as a whole or not
at all.

A new run builds its directory beside the destination (`.NAME.staging-*`) and moves it
into place at its first save, after epoch 1. Until then the destination is untouched: an
interrupt, a divergence or a failed write in epoch 1 leaves an earlier model there
exactly as it was. A destination that holds a model is replaced only when the caller
says so (`--overwrite`); a non-empty directory that holds no model is never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ner_rnn import model_dir
from ner_rnn.errors import ModelError, NerError


class ModelOutput:
    """The model directory of one training run, staged until its first save."""

    def __init__(self, path: str | Path, published: bool):
        self.path = Path(path)
        self.published = published
        self._staging: Path | None = None

    @classmethod
    def new(cls, path: str | Path, overwrite: bool = False) -> ModelOutput:
        """A destination for a new run; refuses one it must not replace (checked before
        anything is written)."""
        path = Path(path)
        if path.is_symlink() and path.is_dir():
            path = Path(os.path.realpath(path))  # replace what the link points to, keep the link
        if path.exists() and not path.is_dir():
            raise ModelError(f"{path}: exists and is not a directory")
        if path.is_dir() and any(path.iterdir()):
            if not model_dir.is_model(path):
                raise ModelError(f"{path}: exists, is not empty and holds no model; choose "
                                 "another output directory")
            if not overwrite:
                raise ModelError(f"{path}: holds a model; pass --overwrite to replace it, or "
                                 f"continue its run with: ner-rnn train --resume {path}")
        return cls(path, published=False)

    @classmethod
    def existing(cls, path: str | Path) -> ModelOutput:
        """The directory of a run being resumed: written in place."""
        return cls(path, published=True)

    @property
    def directory(self) -> Path:
        """Where files are written now: the staging directory until the first save."""
        if self.published:
            return self.path
        if self._staging is None:
            self._staging = self._make_staging()
        return self._staging

    def publish(self) -> None:
        """Move the staged directory into place (once; later calls do nothing)."""
        if self.published:
            return
        staging = self.directory
        try:
            if self.path.exists():  # an empty directory, or a model being overwritten
                old = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.old-",
                                            dir=self.path.parent))
                os.rename(self.path, old / self.path.name)
                os.rename(staging, self.path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(staging, self.path)
        except OSError as error:
            raise NerError(f"{self.path}: cannot move the new model into place "
                           f"({error.strerror}); it is in {staging}") from None
        self.published = True

    def abandon(self) -> None:
        """Remove the staging directory of a run that never saved."""
        if not self.published and self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def state(self) -> str:
        """What the destination holds now, for messages."""
        if self.published:
            return f"{self.path} keeps the best model so far"
        return f"nothing was saved; {self.path} is unchanged"

    def _make_staging(self) -> Path:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.staging-",
                                            dir=self.path.parent))
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private
        except OSError as error:
            raise NerError(f"{self.path}: cannot create ({error.strerror})") from None
        return staging


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
