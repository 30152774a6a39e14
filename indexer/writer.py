"""Whoosh writers that never commit a wrong index and never leave a process behind.

- **Counted commit.** Before a writer writes its table of contents (Whoosh's commit point), the
  live documents of the segments it lists must number exactly what the run expects (previous
  − removed + added). If not, it raises ``CountMismatch`` naming the sources that lost articles,
  and nothing is committed: the index stays the previous version.
- **Parallel writer** (Whoosh's ``MpWriter``, a segment per worker process) with workers that
  die with their parent (``PR_SET_PDEATHSIG`` where Linux has it, and a watchdog thread that
  notices the parent is gone everywhere), leave Ctrl-C to the parent, and are watched: a
  worker that dies fails the run at once with ``WorkerDied`` instead of its documents being
  quietly missing from the commit. Cancelling stops them.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import sys
import threading
from collections import Counter

from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

WATCHDOG_SECONDS = 0.5
_STOPPING = {signal.SIGINT, signal.SIGTERM}


class WriteFailed(Exception):
    """The run cannot be committed; the index is left as it was."""


class WorkerDied(WriteFailed):
    pass


class CountMismatch(WriteFailed):
    pass


class _CountedCommit:
    """Mixin: ``expected`` live documents, checked before the table of contents is written;
    ``expected_sources`` (source -> articles added) names what is missing when the check fails;
    ``before_commit(generation)`` runs just before the commit point (the meta file is written
    there)."""

    expected: int | None = None
    expected_sources: Counter | None = None
    before_commit = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._old_segments = {segment.segment_id() for segment in self.segments}

    def _commit_toc(self, segments):
        self.check_workers()
        live = sum(segment.doc_count() for segment in segments)
        if self.expected is not None and live != self.expected:
            raise CountMismatch(self._mismatch(live, segments))
        if self.before_commit is not None:
            self.before_commit(self.generation)
        super()._commit_toc(segments)

    def check_workers(self) -> None:
        pass

    def _mismatch(self, live: int, segments) -> str:
        message = (f"the index would hold {live:,} articles, {self.expected:,} were expected; "
                   "nothing was committed (the index is unchanged)")
        if not self.expected_sources:
            return message
        found: Counter = Counter()
        new = [s for s in segments if s.segment_id() not in self._old_segments]
        for segment in new:
            reader = SegmentReader(self.storage, self.schema, segment)
            try:
                for source in self.expected_sources:
                    found[source] += reader.doc_frequency("source", source)
            finally:
                reader.close()
        missing = [f"{source} ({count - found[source]} of {count})"
                   for source, count in self.expected_sources.items() if found[source] < count]
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            message += f"; articles missing from: {shown}"
        return message


class CheckedWriter(_CountedCommit, SegmentWriter):
    """One process: ``SegmentWriter`` with the counted commit."""


class _Worker(SubWriterTask):
    def __init__(self, *args, parent: int):
        super().__init__(*args)
        self.parent = parent
        self.daemon = True

    def run(self):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, if it has one
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)  # blocked by the parent for the fork
        _die_with_parent(self.parent)
        super().run()


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch():
        while os.getppid() == parent:
            threading.Event().wait(WATCHDOG_SECONDS)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


class _WatchedQueue:
    """The job queue as the parent sees it: a put that waits for room checks the workers."""

    def __init__(self, jobs, check):
        self.jobs = jobs
        self.check = check

    def put(self, item):
        while True:
            self.check()
            try:
                self.jobs.put(item, timeout=WATCHDOG_SECONDS)
                return
            except queue.Full:
                continue


class ParallelWriter(_CountedCommit, MpWriter):
    """Whoosh's multi-process writer (one segment per worker) with watched workers."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self._jobs = self.jobqueue
        self.jobqueue = _WatchedQueue(self._jobs, self.check_workers)

    def _new_task(self):
        task = _Worker(self.storage, self.indexname, self._jobs, self.resultqueue, self.subargs,
                       self.multisegment, parent=os.getpid())
        self.tasks.append(task)
        # Until the worker has its own signal handlers, the parent's must not run in it.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            task.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return task

    def check_workers(self) -> None:
        """Raise ``WorkerDied`` if a worker has died (a worker exits 0 only when told to)."""
        for number, task in enumerate(self.tasks, start=1):
            code = task.exitcode
            if code is None or code == 0:
                continue
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            raise WorkerDied(f"indexing worker {number} (pid {task.pid}) {how}, perhaps for lack of "
                             "memory; nothing was committed (the index is unchanged)")

    def cancel(self):
        """Stop the workers (they hold nothing that needs closing) and drop what was written."""
        for task in self.tasks:
            if task.is_alive():
                task.kill()
        for task in self.tasks:
            task.join()
        if not self.is_closed:
            SegmentWriter.cancel(self)
