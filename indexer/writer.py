"""Whoosh writers that never commit a wrong index, never leave a process behind, and scale.

- **Counted commit.** Before a writer writes its table of contents (Whoosh's commit point), the
  live documents of the segments it lists must number exactly what the run expects (previous
  − removed + added). If not, it raises ``CountMismatch`` naming the sources that lost articles,
  and nothing is committed: the index stays the previous version.
- **Segments flushed from memory** (``GramSegmentWriter``). Whoosh's own writer sorts every
  posting through pickled runs on disk (about 240 bytes of temporary disk per character of
  text) before writing a segment. Here the postings of a segment are gathered in memory by
  term (``MemoryPool``: a document array and a frequency array per term) and written in term
  order when the segment is finished; when the memory bound (``limitmb``) is reached, the
  segment is finished and a new one begun. No sorting runs, no temporary disk. The gram fields
  and text columns of the table (``indexer.fields``, GRAMS and COLUMN) go to the segment's gram
  file (``indexer.gramindex``), not to Whoosh; merges carry them over.
- **Articles prepared where they are written.** ``add_article`` takes an article as read; it is
  normalised, segmented and tagged (``indexer.documents.prepare_article``) in the process that
  writes it, so with the parallel writer both cores do that work.
- **Parallel writer** (Whoosh's ``MpWriter``, segments per worker process) with workers that
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
import pickle
from array import array
from collections import Counter

from whoosh.formats import Existence, Frequency
from whoosh.index import FileIndex
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.reading import SegmentReader
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

from indexer import fields
from indexer.documents import prepare_article
from indexer.gramindex import GramReader, GramWriter, sidecar_path

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


# The table's fields that live in the segment's gram file instead of Whoosh.
GRAM_FIELDS = tuple(f.name for f in fields.FIELDS if f.kind == fields.GRAMS)
TEXT_FIELDS = tuple(f.name for f in fields.FIELDS if f.kind == fields.COLUMN)
BESIDE = GRAM_FIELDS + TEXT_FIELDS
# What a posting and a term cost in ``MemoryPool`` (two array entries; a tuple key, a bytes
# object and two arrays), for the memory bound (measured: the process grows about this much).
BYTES_PER_POSTING = 10
BYTES_PER_TERM = 320


class MemoryPool:
    """A segment's postings gathered in memory: (field, term) -> document and frequency arrays.

    Stands in for Whoosh's ``PostingPool`` (same ``add``, ``iter_postings``, ``fieldnames``,
    ``cleanup``). Documents come in ascending order (they are numbered as they are added), so
    only the terms need sorting when the segment is written. The weights and values Whoosh
    writes are made from the frequency exactly as its formats make them: ``Frequency`` (words,
    keywords) weight = frequency × field boost, value = ``pack_uint(frequency)``; ``Existence``
    (ids, numbers, flags) weight = field boost, no value. Other formats are refused.
    """

    def __init__(self, schema):
        self.schema = schema
        self.terms: dict[tuple[str, bytes], tuple[array, array]] = {}
        self.fieldnames: set[str] = set()
        self.postings = 0
        for name, field in schema.items():
            if field.format is not None and type(field.format) not in (Existence, Frequency):
                raise ValueError(f"field {name!r}: the memory pool takes Existence and Frequency "
                                 f"formats, not {type(field.format).__name__}")

    def add_term(self, fieldname: str, btext: bytes, docnum: int, freq: int) -> None:
        entry = self.terms.get((fieldname, btext))
        if entry is None:
            entry = self.terms[(fieldname, btext)] = (array("I"), array("I"))
            self.fieldnames.add(fieldname)
        entry[0].append(docnum)
        entry[1].append(freq)
        self.postings += 1

    def add(self, item) -> None:
        """Whoosh's pool interface (merging a segment): (field, term, document, weight, value)."""
        fieldname, btext, docnum, _weight, vbytes = item
        if docnum < 0:  # spelling words: none here
            return
        self.add_term(fieldname, btext, docnum, self.schema[fieldname].format.decode_frequency(vbytes))

    def memory(self) -> int:
        return self.postings * BYTES_PER_POSTING + len(self.terms) * BYTES_PER_TERM

    def iter_postings(self):
        schema = self.schema
        for key in sorted(self.terms):
            fieldname, btext = key
            docs, freqs = self.terms[key]
            fmt = schema[fieldname].format
            boost = fmt.field_boost
            if type(fmt) is Frequency:
                for docnum, freq in zip(docs, freqs):
                    yield fieldname, btext, docnum, freq * boost, pack_uint(freq)
            else:
                for docnum in docs:
                    yield fieldname, btext, docnum, boost, b""

    def cleanup(self) -> None:
        self.terms = {}
        self.postings = 0


# Merging: a segment of fewer documents than this is small; small segments are merged (into the
# segment being written) once there are this many of them. Large segments are never merged:
# Whoosh merges by re-adding every posting in Python, and its own policy (MERGE_SMALL, a
# Fibonacci heuristic) would merge a whole million-article index of a few dozen segments into
# an update of a thousand articles.
SMALL_SEGMENT = 5_000
SMALL_SEGMENTS_TO_MERGE = 8


def merge_small_segments(writer, segments):
    """A Whoosh merge policy: merge the small segments when there are enough of them."""
    small = [segment for segment in segments if segment.doc_count_all() < SMALL_SEGMENT]
    if len(small) < SMALL_SEGMENTS_TO_MERGE:
        return segments
    for segment in small:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    return [segment for segment in segments if segment not in small]


def _policy(mergetype, optimize, merge):
    """The merge policy of a commit: the one asked for, else ``merge_small_segments`` (unless
    the commit asks Whoosh to optimize or not to merge)."""
    if mergetype is not None or optimize or merge is False:
        return mergetype
    return merge_small_segments


class GramSegmentWriter(SegmentWriter):
    """Whoosh's ``SegmentWriter`` with postings in memory (``MemoryPool``), the gram fields and
    text columns in the segment's gram file, a new segment begun whenever the memory bound is
    reached, and ``add_article`` (prepare, then add). Segment files are not assembled into a
    compound file (that would copy each segment once more)."""

    def __init__(self, ix, limitmb: int = 256, **kwargs):
        kwargs["compound"] = False
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self._start_grams(limitmb)

    def _start_grams(self, limitmb: int) -> None:
        self.limit = limitmb * 1024 * 1024  # 0: a segment per document (tests)
        self.flushed: list = []  # segments finished because memory was full
        self.pool = MemoryPool(self.schema)
        self.grams = self._gram_writer()

    def _gram_writer(self) -> GramWriter:
        return GramWriter(sidecar_path(self.storage.folder, self.newsegment.segment_id()), GRAM_FIELDS, TEXT_FIELDS)

    def memory(self) -> int:
        return self.pool.memory() + self.grams.memory()

    def add_article(self, article, fingerprint: str, catalog) -> None:
        """Normalise, segment and tag ``article`` here, then add its document."""
        self.add_document(**fields.document(prepare_article(article, fingerprint, catalog)))

    def add_document(self, **values):
        self._check_state()
        beside = {name: values.pop(name, None) for name in BESIDE}
        names = sorted(name for name in values if not name.startswith("_"))
        self._check_fields(self.schema, names)
        schema = self.schema
        perdocwriter = self.perdocwriter
        pool = self.pool
        add_term = pool.add_term
        terms = pool.terms
        docnum = self.docnum
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in names:
                value = values[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    if type(value) is list and type(field.format) is Frequency:
                        # A list of words (the analyzer bypassed): what Frequency.word_values
                        # makes of it, counted in C; ``add_term`` inlined (the hot loop).
                        for word, freq in Counter(value).items():
                            key = (fieldname, word.encode("utf-8"))
                            entry = terms.get(key)
                            if entry is None:
                                add_term(key[0], key[1], docnum, freq)
                            else:
                                entry[0].append(docnum)
                                entry[1].append(freq)
                                pool.postings += 1
                        length = len(value)
                    else:
                        for btext, freq, _weight, _vbytes in field.index(value):
                            add_term(fieldname, btext, docnum, freq)
                            length += freq
                    if not field.scorable:
                        length = 0
                shown = values.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, shown if field.stored else None, length)
                if field.column_type and shown is not None:
                    perdocwriter.add_column_value(fieldname, field.column_type, field.to_column_value(shown))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self.grams.add(docnum, beside)
        self._added = True
        self.docnum += 1
        if self.memory() > self.limit:
            self._next_segment()

    def add_reader(self, reader):
        """Merge a segment (Whoosh's way) and its gram file."""
        self._check_state()
        basedoc = self.docnum
        indexed = {name for name in reader.indexed_field_names() if name in self.schema}
        docmap = self.write_per_doc(set(self.schema.names()) | indexed, reader)
        self.add_postings_to_pool(reader, basedoc, docmap)
        grams = GramReader(sidecar_path(self.storage.folder, reader.segment().segment_id()))
        try:
            self.grams.add_segment(grams, docmap)
        finally:
            grams.close()
        self._added = True

    def _next_segment(self) -> None:
        """Finish the segment being written (memory is full) and begin a new one."""
        self.flushed.append(self._finalize_segment())
        self.newsegment = self.codec.new_segment(self.storage, self.indexname)
        self.perdocwriter = self.codec.per_document_writer(self.storage, self.newsegment)
        self.fieldwriter = self.codec.field_writer(self.storage, self.newsegment)
        self.pool = MemoryPool(self.schema)
        self.grams = self._gram_writer()
        self.docnum = self.docbase = 0
        self._added = False

    def _finalize_segment(self):
        segment = super()._finalize_segment()
        self.grams.finish()
        return segment

    def finished_segments(self) -> list:
        """Every segment this writer wrote (the one being written finished now)."""
        if self._added:
            return self.flushed + [self._finalize_segment()]
        self._close_segment()
        self.grams.cancel()
        return list(self.flushed)

    def commit(self, mergetype=None, optimize=None, merge=None):
        self._check_state()
        segments = self._merge_segments(_policy(mergetype, optimize, merge), optimize, merge)
        segments += self.finished_segments()
        self._commit_toc(segments)
        self._finish()

    def cancel(self):
        self.grams.cancel()
        super().cancel()


class CheckedWriter(_CountedCommit, GramSegmentWriter):
    """One process: ``GramSegmentWriter`` with the counted commit."""


class _Worker(SubWriterTask):
    def __init__(self, *args, parent: int, schema):
        super().__init__(*args)
        self.parent = parent
        self.schema = schema
        self.daemon = True

    def run(self):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, if it has one
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)  # blocked by the parent for the fork
        _die_with_parent(self.parent)
        # The parent's schema (this version's: ``indexdir.open_for_writing``), not the one pickled
        # in the index, which may name classes that have moved: a rebuild must work.
        ix = FileIndex(self.storage, schema=self.schema, indexname=self.indexname)
        writer = self.writer = GramSegmentWriter(ix, _lk=False, **self.kwargs)
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
        if not self.running:
            writer.cancel()
            return
        self.resultqueue.put(writer.finished_segments(), timeout=5)

    def _process_file(self, filename, doc_count):
        """A job file: pickled (0, document fields) or (1, (article, fingerprint, catalog))."""
        tempstorage = self.writer.temp_storage()
        with tempstorage.open_file(filename).raw_file() as stream:
            for _ in range(doc_count):
                code, args = pickle.load(stream)
                if code == 1:
                    self.writer.add_article(*args)
                else:
                    self.writer.add_document(**args)
        tempstorage.delete_file(filename)


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


class ParallelWriter(_CountedCommit, MpWriter, GramSegmentWriter):
    """Whoosh's multi-process writer (segments per worker, ``GramSegmentWriter`` in each) with
    watched workers; articles are prepared in the workers."""

    def __init__(self, ix, limitmb: int = 256, **kwargs):
        kwargs["compound"] = False
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self._start_grams(limitmb)
        self._jobs = self.jobqueue
        self.jobqueue = _WatchedQueue(self._jobs, self.check_workers)

    def add_article(self, article, fingerprint: str, catalog) -> None:
        self.docbuffer.append((1, (article, fingerprint, catalog)))
        if len(self.docbuffer) >= self.batchsize:
            self._enqueue()
        self._added_sub = True

    def commit(self, mergetype=None, optimize=None, merge=None):
        if not self._added_sub:
            return GramSegmentWriter.commit(self, mergetype, optimize, merge)
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self.jobqueue.put(None)
        segments = self._merge_segments(_policy(mergetype, optimize, merge), optimize, merge)
        for task in self.tasks:
            task.join()
        self.check_workers()
        for _ in self.tasks:
            segments += self.resultqueue.get(timeout=5)
        segments += self.finished_segments()
        self._commit_toc(segments)
        self._finish()

    def _new_task(self):
        task = _Worker(self.storage, self.indexname, self._jobs, self.resultqueue, self.subargs,
                       self.multisegment, parent=os.getpid(), schema=self.schema)
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
            self.grams.cancel()
            SegmentWriter.cancel(self)
