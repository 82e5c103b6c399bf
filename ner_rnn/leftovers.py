"""Temp files and staging directories named so that what a killed run left is known.

An atomic write fills `.FILE.HOST.PID.XXXXXXXX.tmp` beside its target; a training run
stages its model in `.NAME.staging-HOST.PID.XXXXXXXX` beside its destination (HOST this
machine's name, PID the writing process, X eight random characters). `kill -9` or a
power cut leaves them behind; `remove_leftovers` removes those whose name matches one of
these patterns exactly, that were made on this host by this user, whose process is gone
and that are not symlinks. Nothing else is touched, and a symlink is never followed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

_RANDOM = r"[a-z0-9_]{8}"  # what tempfile adds: eight of a-z, 0-9 and _
_PID = r"(?P<pid>[1-9][0-9]{0,9})"


def temp_prefix(name: str) -> str:
    """The start of the temp file's name for a write to `name`: `.NAME.HOST.PID.`
    (tempfile adds the random part; the caller's suffix is `.tmp`)."""
    return f".{name}.{_host()}.{os.getpid()}."


def staging_prefix(name: str) -> str:
    """The start of the staging directory's name for a model directory `name`:
    `.NAME.staging-HOST.PID.` (tempfile adds the random part)."""
    return f".{name}.staging-{_host()}.{os.getpid()}."


def remove_leftovers(directory: str | Path) -> None:
    """Remove from `directory` the temp files and staging directories that runs of this
    host, now dead, left; whatever cannot be read or removed is left as it is."""
    host = re.escape(_host())
    temp = re.compile(rf"\..+\.{host}\.{_PID}\.{_RANDOM}\.tmp")
    staging = re.compile(rf"\..+\.staging-{host}\.{_PID}\.{_RANDOM}")
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith("."):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue  # another user's: never ours, whatever its name
            if (match := temp.fullmatch(entry.name)) and entry.is_file(follow_symlinks=False):
                if not _alive(int(match["pid"])):
                    os.unlink(entry.path)  # were it swapped for a link now, only the link goes
            elif (match := staging.fullmatch(entry.name)) and entry.is_dir(
                    follow_symlinks=False) and not _alive(int(match["pid"])):
                _remove_tree(entry.path)
        except OSError:
            continue


def _remove_tree(path: str) -> None:
    """Remove a directory and what it holds, the links inside removed, never followed;
    where `shutil.rmtree` cannot promise that (not on every platform), leave it."""
    if shutil.rmtree.avoids_symlink_attacks:  # it works through descriptors, no-follow
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (one we may not signal exists too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or no pid this system could have: keep
    return True


def _host() -> str:
    """This machine's name, as it can stand in a file name."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "localhost"
