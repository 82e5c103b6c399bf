"""Writing output files: regular files atomically, anything else written through.

A regular file (or a new path) is written to a temp file in the same directory, synced,
and renamed over the target: readers see the old file or the new one, never a
half-written one. A symlink is followed, and the file it points to is replaced in its
own directory, so the link stays a link. Character devices and pipes (`/dev/null`, a
FIFO) are written directly: renaming over them would replace the device with a regular
file. So is whatever an open descriptor names (`/dev/stdout`, `/dev/fd/N`): the shell
that redirected it goes on writing to that file. A replaced file keeps its permissions;
a new one gets them from the umask, like any file a shell creates. The temp file is
named `.FILE.HOST.PID.XXXXXXXX.tmp`, and each write first removes the ones that killed
processes of this host left in that directory (see `leftovers`).
Files that belong together (`atomic_write_together`) are all written before any is
renamed into place; those are regular files only.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from ner_rnn.errors import NerError
from ner_rnn.leftovers import remove_leftovers, temp_prefix


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(target)` for a path to fill, then put it in place at `path`.

    A failed write leaves the old file untouched and no temp file behind.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None  # a new file (or a link to one yet to be made)
    except OSError as error:
        raise NerError(f"{path}: cannot write ({error.strerror})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise NerError(f"{path}: is a directory, expected a file")
    if mode is not None and not stat.S_ISREG(mode):
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise NerError(f"{path}: not a regular file, a character device or a pipe; "
                           "refusing to write to it")
        _write_through(path, write)
    elif mode is not None and names_open_descriptor(path):
        _write_through(path, write)
    else:
        _replace(Path(os.path.realpath(path)), path, write, mode)


_DESCRIPTOR = re.compile(r"/proc/[^/]+/fd/[^/]+")


def names_open_descriptor(path: Path) -> bool:
    """Whether `path` leads through `/proc/PID/fd/N` (as `/dev/stdout` and `/dev/fd/N`
    do), following symlinks one at a time."""
    for _ in range(40):  # as many links as the kernel follows
        path = Path(os.path.realpath(path.parent)) / path.name
        if _DESCRIPTOR.fullmatch(str(path)):
            return True
        if not path.is_symlink():
            return False
        path = path.parent / os.readlink(path)
    return False


def _write_through(path: Path, write: Callable[[Path], None]) -> None:
    try:
        write(path)
    except OSError as error:
        raise NerError(f"{path}: cannot write ({error.strerror})") from None


def _replace(target: Path, shown: Path, write: Callable[[Path], None],
             mode: int | None) -> None:
    """Write a temp file beside `target` and rename it over `target`; errors name `shown`
    (the path the user gave)."""
    temp = _filled_temp(target, shown, write, mode)
    try:
        os.replace(temp, target)
    except OSError as error:
        raise NerError(f"{shown}: cannot write ({error.strerror})") from None
    finally:
        _unlink_quietly(temp)
    _sync_directory(target.parent)


def _filled_temp(target: Path, shown: Path, write: Callable[[Path], None],
                 mode: int | None) -> str:
    """A temp file beside `target` filled by `write`, with `mode`'s permissions (None:
    the umask's) and synced; on failure none is left, and the error names `shown`."""
    remove_leftovers(target.parent)
    temp = None
    try:
        fd, temp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=".tmp",
                                    dir=target.parent)
        os.close(fd)
        write(Path(temp))
        # mkstemp makes 0600 files: keep the replaced file's mode, or follow the umask
        os.chmod(temp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~current_umask())
        _sync(temp)  # a crash right after the rename must not leave an empty file
    except BaseException as error:
        if temp is not None:
            _unlink_quietly(temp)
        if isinstance(error, OSError):
            raise NerError(f"{shown}: cannot write ({error.strerror})") from None
        raise
    return temp


def _sync_directory(directory: Path) -> None:
    """Make the renames in `directory` durable, where its file system can."""
    try:
        _sync(directory)
    except OSError:
        pass  # some file systems cannot sync a directory; the file is in place anyway


def _sync(path: str | Path) -> None:
    """Flush a file's or a directory's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def path_text(path: str | Path) -> str:
    """`path` as text any UTF-8 output can hold: the bytes of a file name that are not
    UTF-8 (which Python keeps as lone surrogates) written `\\xNN`."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` as UTF-8 to `path` atomically (see `atomic_write`)."""
    atomic_write(path, lambda target: target.write_text(text, encoding="utf-8"))


def atomic_write_together(writes: list[tuple[Path, Callable[[Path], None]]]) -> None:
    """Write regular files (or new paths; symlinks followed) that belong together: each
    `write(target)` fills a temp file beside its file, and only once all are filled are
    they renamed into place. A failed write leaves every old file untouched and no temp
    file behind. Were a rename refused after others were done (all but impossible: the
    temp files lie beside their targets), those already in place are removed, so no new
    file is left beside an old one it does not belong with.
    """
    targets, temps = [], []
    try:
        for path, write in writes:
            path = Path(path)
            target = Path(os.path.realpath(path))
            temps.append(_filled_temp(target, path, write, _regular_mode(path)))
            targets.append((path, target))
        for done, (temp, (path, target)) in enumerate(zip(temps, targets)):
            try:
                os.replace(temp, target)
            except OSError as error:
                for _, placed in targets[:done]:
                    _unlink_quietly(placed)
                removed = "".join(f"; {shown} removed" for shown, _ in targets[:done])
                raise NerError(f"{path}: cannot write ({error.strerror}){removed}") from None
    finally:
        for temp in temps:
            _unlink_quietly(temp)
    for directory in {target.parent for _, target in targets}:
        _sync_directory(directory)


def _regular_mode(path: Path) -> int | None:
    """The mode of the regular file at `path` (None: none there); anything else refused."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise NerError(f"{path}: cannot write ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        raise NerError(f"{path}: is a directory, expected a file")
    if not stat.S_ISREG(mode) or names_open_descriptor(path):
        raise NerError(f"{path}: not a regular file; refusing to write to it")
    return mode


def _unlink_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # already gone
