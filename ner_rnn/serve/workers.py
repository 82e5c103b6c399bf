"""Worker processes that tokenise, encode and format while the main process runs the model.

Workers are started with `spawn` and import this module and what it needs, never torch:
each costs a Python interpreter and numpy (about 0.2 s of CPU), not another copy of
torch (about 2 s) with thread pools competing for the cores. Work goes out and comes
back as pickled lists and numpy arrays. Results are handed back in submission order
with at most `ahead` items in flight, so memory stays flat however long the input.

A worker ignores Ctrl-C and SIGHUP (the terminal sends them to every process of the
group) and leaves SIGTERM a moment: the main process decides, stops the pool and the
workers exit. A worker that dies makes the next result raise a one-line error. A worker
whose main process has died exits.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ner_rnn import signals
from ner_rnn.errors import NerError
from ner_rnn.serve.lines import LineEncoder
from ner_rnn.serve.results import Formatter


class WorkerDied(NerError):
    """A worker process stopped without finishing its work (killed, or out of memory)."""


@dataclass(frozen=True)
class Jobs:
    """What workers do, set up once in each: `encode` lines, `format` tagged lines."""

    encode: LineEncoder
    format: Formatter


class Pool:
    """`size` worker processes running `jobs`; with `size` 0 the jobs run in this process,
    one item at a time, in order. Start one with `pool`."""

    def __init__(self, size: int, jobs: Jobs):
        self.jobs = jobs
        self.executor = None
        if size > 0:
            self.executor = ProcessPoolExecutor(
                size, multiprocessing.get_context("spawn"), initializer=_start,
                initargs=(jobs, os.getpid()))

    def map(self, job: str, items: Iterable[tuple[Any, Any]], ahead: int
            ) -> Iterator[tuple[Any, Any]]:
        """For each (key, work): (key, `job` done on work), in order. The keys stay here;
        up to `ahead` works are submitted beyond the one being waited for."""
        if self.executor is None:
            run = getattr(self.jobs, job)
            yield from ((key, run(work)) for key, work in items)
            return
        waiting: deque[tuple[Any, Future]] = deque()
        for key, work in items:
            waiting.append((key, self._submit(job, work)))
            if len(waiting) > ahead:
                yield self._result(*waiting.popleft())
        while waiting:
            yield self._result(*waiting.popleft())

    def _submit(self, job: str, work) -> Future:
        try:
            with signals.held():  # a submit may start workers
                return self.executor.submit(_run, job, work)
        except BrokenProcessPool:
            raise WorkerDied(_DIED) from None

    @staticmethod
    def _result(key, future: Future) -> tuple[Any, Any]:
        try:
            return key, future.result()
        except BrokenProcessPool:
            raise WorkerDied(_DIED) from None

    def close(self, cancel: bool = False) -> None:
        """Stop the workers once they have done what was submitted (`cancel`: once each
        has finished the item at hand, a few milliseconds); none outlives this call."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=cancel)


@contextmanager
def pool(size: int, jobs: Jobs) -> Iterator[Pool]:
    """A `Pool` closed on leaving the block; on an error or Ctrl-C queued work is dropped."""
    workers = Pool(size, jobs)
    try:
        yield workers
    except BaseException:
        workers.close(cancel=True)
        raise
    workers.close()


_DIED = ("a tagging worker process stopped unexpectedly (killed, or out of memory?); "
         "tagging stopped")

_jobs: Jobs | None = None  # in a worker: what it runs


def _start(jobs: Jobs, parent: int) -> None:
    global _jobs
    # the main process stops the pool on Ctrl-C, SIGTERM or SIGHUP (and reports it); a
    # worker dying of the same signal first would be reported as a crash instead
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_soon)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signals.STOPS)  # held back while starting
    _jobs = jobs
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _run(job: str, item):
    return getattr(_jobs, job)(item)


def _exit_soon(signum: int, frame) -> None:
    """SIGTERM comes from the pool itself, stopping the other workers when one died (a
    worker killed while waiting for work leaves the queue locked, so they must go), or
    from a stop sent to the whole process group, which the main process must see first
    and report: exit after a moment, not at once."""
    timer = threading.Timer(_TERMINATE_GRACE_S, os._exit, args=(1,))
    timer.daemon = True
    timer.start()


_TERMINATE_GRACE_S = 2.0


def _exit_with(parent: int) -> None:
    """Exit when the main process is gone (killed before it could stop the pool)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
