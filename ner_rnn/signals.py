"""Stop signals as exceptions, so that every way of stopping the program unwinds alike.

Ctrl-C raises KeyboardInterrupt as usual; SIGTERM and SIGHUP raise `Terminated`, a
KeyboardInterrupt too: `finally` clauses remove temp files, training says how to resume,
and the CLI exits with 128 + the signal number. `held()` holds all three back for a step
that must not be cut in two (starting a worker process: interrupted half-way, the worker
would print a traceback of its own).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_held = 0  # how many held() blocks are open
_pending: list[int] = []  # signals that arrived while held


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP; `args[0]` is the signal number."""


@contextmanager
def installed() -> Iterator[None]:
    """Handle the stop signals as described above while the block runs (in the main
    thread; elsewhere Python cannot install handlers and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = [signal.signal(stop, _on_stop) for stop in STOPS]
    try:
        yield
    finally:
        for stop, handler in zip(STOPS, previous):
            signal.signal(stop, handler)


@contextmanager
def held() -> Iterator[None]:
    """Hold the stop signals back until the block ends, then raise the first one that
    came. Threads and processes started inside never receive them (they inherit the
    blocked signal mask): the main process stops them."""
    global _held
    # counted as held while the mask changes: a stop whose handler runs inside
    # pthread_sigmask (a blocked one runs there as the mask lifts) is held back too, so
    # the first stop that came is the one raised and none is left pending
    _held += 1
    try:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    finally:  # a stop that came wins over an error the block raised
        _held -= 1
        if not _held and _pending:
            signum = _pending[0]
            _pending.clear()
            _stop(signum)


def _on_stop(signum: int, frame) -> None:
    # Python runs handlers in the main thread whichever thread the signal reached, so a
    # signal taken by another thread must be held back here as well
    if _held:
        _pending.append(signum)
    else:
        _stop(signum)


def _stop(signum: int) -> NoReturn:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_IGN)  # a second one must not cut the clean-up short
    raise Terminated(signum)
