"""Where a training run writes its model directory, so that it changes as a whole or not
at all.

A new run builds its directory beside the destination (`.NAME.staging-HOST.PID.*`) and
moves it into place at its first save, after epoch 1. Until then the destination is untouched: an
interrupt, a divergence or a failed write in epoch 1 leaves an earlier model there
exactly as it was. A destination that holds a model is replaced only when the caller
says so (`--overwrite`), and only when it holds nothing but a model's own files (a
corpus kept beside the weights is never deleted); a non-empty directory that holds no
model is never touched. A run holds a lock on its destination (`.NAME.lock` beside it)
from its first check to its end, so a second run into the same directory stops at once.
Once it holds the lock, a run removes the staging directories and temp files that killed
runs left there (see `leftovers`), so that --overwrite does not take them for files of
the user's.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from ner_rnn import model_dir
from ner_rnn.errors import ModelError, NerError
from ner_rnn.files import current_umask
from ner_rnn.leftovers import remove_leftovers, staging_prefix


class ModelOutput:
    """The model directory of one training run, staged until its first save."""

    def __init__(self, path: str | Path, published: bool, lock: int | None = None):
        self.path = Path(path)
        self.published = published
        self._staging: Path | None = None
        self._lock = _lock(self.path) if lock is None else lock

    @classmethod
    def new(cls, path: str | Path, overwrite: bool = False) -> ModelOutput:
        """A destination for a new run; refuses one it must not replace (checked before
        anything is written)."""
        path = Path(path)
        if path.is_symlink() and path.is_dir():
            path = Path(os.path.realpath(path))  # replace what the link points to, keep the link
        _refuse_unplaceable(path)
        if path.exists() and not path.is_dir():
            raise ModelError(f"{path}: exists and is not a directory")
        lock = _lock(path)  # before the checks: no other run changes what they find
        try:
            _remove_leftovers(path)
            if path.is_dir() and any(path.iterdir()):
                if not model_dir.is_model(path):
                    raise ModelError(f"{path}: exists, is not empty and holds no model; "
                                     "choose another output directory")
                if not overwrite:
                    raise ModelError(f"{path}: holds a model; pass --overwrite to replace it, "
                                     f"or continue its run with: ner-rnn train --resume {path}")
                _refuse_foreign_files(path)
        except OSError as error:  # a directory we may not read (mode 000, not root)
            _unlock(path, lock)
            raise ModelError(f"{path}: cannot read ({error.strerror})") from None
        except BaseException:
            _unlock(path, lock)
            raise
        return cls(path, published=False, lock=lock)

    @classmethod
    def existing(cls, path: str | Path) -> ModelOutput:
        """The directory of a run being resumed: written in place."""
        output = cls(path, published=True)
        _remove_leftovers(output.path)
        return output

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
        if self.path.is_dir():  # a file may have been put there since the run began
            _refuse_foreign_files(self.path)
        old = None
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
            if old is not None:
                _put_back(old, self.path)
            raise NerError(f"{self.path}: cannot move the new model into place "
                           f"({error.strerror})") from None
        self.published = True

    def abandon(self) -> None:
        """Remove the staging directory of a run that never saved."""
        if not self.published and self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def release(self) -> None:
        """End the run's hold on its destination (once; later calls do nothing)."""
        if self._lock is not None:
            _unlock(self.path, self._lock)
            self._lock = None

    def state(self) -> str:
        """What the destination holds now, for messages."""
        if self.published:
            return f"{self.path} keeps the best model so far"
        return f"nothing was saved; {self.path} is unchanged"

    def _make_staging(self) -> Path:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=staging_prefix(self.path.name),
                                            dir=self.path.parent))
            os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes it private
        except OSError as error:
            raise NerError(f"{self.path}: cannot create ({error.strerror})") from None
        return staging


def _refuse_unplaceable(path: Path) -> None:
    """A destination the model can never be moved to is refused before training starts:
    a symlink to nothing (or a loop), or a path such as `.` that names no entry of its
    parent to rename."""
    if path.is_symlink() and not path.is_dir():
        try:
            os.stat(path)
            problem = "is a symlink to something that is not a directory"
        except OSError as error:
            problem = f"is a symlink that cannot be followed ({error.strerror})"
        raise ModelError(f"{path}: {problem}; choose another output directory")
    if path.name in ("", ".", "..") or Path(os.path.abspath(path)) == Path(os.getcwd()):
        raise ModelError(f"{path}: is the current directory (or above it), which a run "
                         "cannot replace; name another output directory")


def _remove_leftovers(path: Path) -> None:
    """What killed runs left beside the destination (staging directories) and inside it
    (temp files of its writes)."""
    remove_leftovers(path.parent)
    if os.path.isdir(path) and not os.path.islink(path):  # neither raises
        remove_leftovers(path)


def _refuse_foreign_files(path: Path) -> None:
    """--overwrite replaces a model's own files, never anything else kept with them."""
    foreign = sorted(entry.name for entry in path.iterdir()
                     if entry.name not in model_dir.MODEL_FILES or not entry.is_file())
    if foreign:
        raise ModelError(f"{path / foreign[0]}: is not a model file, so --overwrite would "
                         f"delete it ({len(foreign)} such entries); move it out of {path} "
                         "or choose another output directory")


def _put_back(old: Path, path: Path) -> None:
    """Undo a failed publish: the old destination back in place, no `.old-*` left."""
    try:
        if (old / path.name).exists() and not path.exists():
            os.rename(old / path.name, path)
        old.rmdir()
    except OSError:
        pass


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


def _lock(path: Path) -> int:
    """An exclusive lock on `path`'s lock file (a descriptor), or one error line when
    another run holds it. The file is removed on release; one replaced by another run
    between our open and our lock is opened again."""
    lock = _lock_path(path)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise ModelError(f"{path}: another training run is writing this directory "
                                 f"(it holds {lock}); wait for it or choose another "
                                 "output directory") from None
            held, named = os.fstat(fd), _stat_or_none(lock)
            if named is not None and (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino):
                return fd
            os.close(fd)  # the run we waited on removed the file we opened: try again
    except OSError as error:
        raise NerError(f"{lock}: cannot lock ({error.strerror})") from None


def _unlock(path: Path, fd: int) -> None:
    try:
        os.unlink(_lock_path(path))  # while locked: no other run can hold this file
    except OSError:
        pass
    os.close(fd)


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
