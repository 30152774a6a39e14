"""The gram layer beside each Whoosh segment: which documents hold each character and bigram
(compressed bitmaps, ``pyroaring``), and each document's normalised text (for verifying exact
matches). One file per segment, ``MAIN_<segment id>.grams``, written once, read with ``pread``.

Why beside Whoosh and not in it: the gram fields make about 1.2 postings per character of text;
as Whoosh postings each goes through its pure-Python sorting pool and posting writer, which
made them most of the indexing time and most of the index. As bitmaps they are built with one
C call per gram and document and stored at a few bytes per character; set algebra on them runs
in C. The file is named like a segment file, so Whoosh deletes it with its segment, and an
interrupted run's file is a leftover like any other (``indexer.indexdir.leftovers``).

The fields come from the table (``indexer.fields``): each GRAMS field is a keyed set of
bitmaps, each COLUMN field a text per document.

Layout (little-endian)::

    b"NSGRAMS1" | u64 directory offset | u64 directory length
    texts, streamed while documents are added (each COLUMN field's value, document by document)
    per COLUMN field: u64 start per document, u32 length per document
    per GRAMS field: u64 keys (sorted), u32 cardinalities, u64 data ends, data
    directory (JSON): document count and where each array is

A key is a gram as a number (``gram_key``: each character's code point + 1 in 21 bits, the
first one high). A gram's data is its documents as u32s when they are few (``FEW_DOCS`` or
fewer: most bigrams are rare, and a serialised bitmap costs about 20 bytes however small), else
its serialised roaring bitmap. Documents are numbered within the segment, as Whoosh numbers
them.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
import os
import struct
from array import array
from collections import defaultdict, deque
from itertools import repeat
from pathlib import Path

from pyroaring import BitMap

from indexer.analysis import gram_set

MAGIC = b"NSGRAMS1"
EXTENSION = ".grams"
_HEADER = struct.Struct("<8sQQ")
# What one gram in one document costs while a segment is built (a bitmap entry and its share of
# the dict and bitmap objects), for the writers' memory bound.
BYTES_PER_GRAM_POSTING = 7
BYTES_PER_GRAM = 250
FEW_DOCS = 8
# Verifying candidates: texts less than READ_GAP bytes apart are read in one go, up to READ_SPAN.
READ_GAP = 8192
READ_SPAN = 1 << 20
# Candidates spread over more than this many documents each have their text's span read alone
# (else the spans of the whole range are read at once).
SPARSE_CANDIDATES = 256
_ADD = BitMap.add
# The sparse index of a gram table: every KEY_BLOCK-th key (a lookup reads one block, 4 KiB).
KEY_BLOCK = 512
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_TWO_U64 = struct.Struct("<QQ")


def gram_key(gram: str) -> int:
    """A character or bigram as a number (distinct for every gram, ordered like the grams)."""
    if len(gram) == 1:
        return (ord(gram) + 1) << 21
    return ((ord(gram[0]) + 1) << 21) | (ord(gram[1]) + 1)


def key_gram(key: int) -> str:
    first, second = key >> 21, key & 0x1FFFFF
    return chr(first - 1) + (chr(second - 1) if second else "")


def sidecar_path(folder: str | os.PathLike, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{EXTENSION}"


def _align(stream, boundary: int = 8) -> None:
    pad = -stream.tell() % boundary
    if pad:
        stream.write(b"\0" * pad)


class GramWriter:
    """Builds one segment's gram file: ``add`` each document in document-number order (or
    ``add_segment`` an older segment's file, for merges), then ``finish``."""

    def __init__(self, path: Path, gram_fields: tuple[str, ...], text_fields: tuple[str, ...]):
        self.path = Path(path)
        self.gram_fields = gram_fields
        self.text_fields = text_fields
        self.grams: dict[str, defaultdict] = {name: defaultdict(BitMap) for name in gram_fields}
        self.starts = {name: array("Q") for name in text_fields}
        self.lengths = {name: array("I") for name in text_fields}
        self.doc_count = 0
        self.gram_postings = 0
        self._file = None

    def _stream(self):
        if self._file is None:
            self._file = open(self.path, "wb")
            self._file.write(_HEADER.pack(MAGIC, 0, 0))
        return self._file

    def memory(self) -> int:
        """About how many bytes the grams built so far hold in memory."""
        grams = sum(len(table) for table in self.grams.values())
        return self.gram_postings * BYTES_PER_GRAM_POSTING + grams * BYTES_PER_GRAM

    def add(self, docnum: int, values: dict) -> None:
        """Document ``docnum`` (the next one): ``values`` holds each gram field's normalised
        text and each text field's UTF-8 bytes (missing or ``None``: empty)."""
        if docnum != self.doc_count:
            raise ValueError(f"gram file {self.path.name}: document {docnum} added, {self.doc_count} expected")
        for name in self.gram_fields:
            text = values.get(name)
            if text:
                grams = gram_set(text)
                # table[gram].add(docnum) for every gram, the loop run in C (map, deque)
                deque(map(_ADD, map(self.grams[name].__getitem__, grams), repeat(docnum)), maxlen=0)
                self.gram_postings += len(grams)
        self._add_texts(values)
        self.doc_count += 1

    def _add_texts(self, values: dict) -> None:
        stream = self._stream()
        for name in self.text_fields:
            data = values.get(name) or b""
            self.starts[name].append(stream.tell())
            self.lengths[name].append(len(data))
            stream.write(data)

    def add_segment(self, reader: "GramReader", docmap: dict[int, int] | None) -> None:
        """Every live document of an older segment's file, renumbered as ``docmap`` says (old ->
        new; ``None``: no deletions, the documents follow on in order)."""
        base = self.doc_count
        kept = range(reader.doc_count) if docmap is None else sorted(docmap)
        for old in kept:
            new = base + old if docmap is None else docmap[old]
            if new != self.doc_count:
                raise ValueError(f"gram file {self.path.name}: merged document {new}, {self.doc_count} expected")
            self._add_texts({name: reader.text(name, old) for name in self.text_fields})
            self.doc_count += 1
        for name in self.gram_fields:
            if not reader.has_field(name):
                continue
            table = self.grams[name]
            if docmap is None:
                for gram, docs in reader.items(name):
                    table[gram] |= docs.shift(base) if base else docs
                    self.gram_postings += len(docs)
            else:
                live = BitMap(docmap)
                for gram, docs in reader.items(name):
                    docs &= live
                    if docs:
                        table[gram] |= BitMap(docmap[d] for d in docs)
                        self.gram_postings += len(docs)

    def finish(self) -> None:
        """Write the arrays, the bitmaps and the directory; the file is complete."""
        stream = self._stream()
        directory: dict = {"doc_count": self.doc_count, "texts": {}, "grams": {}}
        for name in self.text_fields:
            _align(stream)
            starts = stream.tell()
            self.starts[name].tofile(stream)
            lengths = stream.tell()
            self.lengths[name].tofile(stream)
            directory["texts"][name] = {"starts": starts, "lengths": lengths}
        for name in self.gram_fields:
            directory["grams"][name] = self._write_grams(stream, self.grams[name])
            self.grams[name] = defaultdict(BitMap)  # free it now
        _align(stream)
        where = stream.tell()
        data = json.dumps(directory).encode("utf-8")
        stream.write(data)
        stream.seek(0)
        stream.write(_HEADER.pack(MAGIC, where, len(data)))
        stream.flush()
        os.fsync(stream.fileno())
        stream.close()
        self._file = None

    @staticmethod
    def _write_grams(stream, table: dict[str, BitMap]) -> dict:
        ordered = sorted((gram_key(gram), gram) for gram in table)
        _align(stream)
        keys = stream.tell()
        array("Q", (key for key, _ in ordered)).tofile(stream)
        cardinalities = stream.tell()
        array("I", (len(table[gram]) for _, gram in ordered)).tofile(stream)
        _align(stream)
        data = stream.tell()
        ends = array("Q")
        end = 0
        for _, gram in ordered:
            docs = table[gram]
            if len(docs) <= FEW_DOCS:
                chunk = docs.to_array().tobytes()
            else:
                docs.run_optimize()
                chunk = docs.serialize()
            stream.write(chunk)
            end += len(chunk)
            ends.append(end)
        _align(stream)
        ends_at = stream.tell()
        ends.tofile(stream)
        return {"count": len(ordered), "keys": keys, "cardinalities": cardinalities, "data": data,
                "ends": ends_at}

    def cancel(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)


class _Grams:
    """One GRAMS field of a gram file: sorted keys, their cardinalities and documents, read with
    ``pread`` as needed. In memory: every ``KEY_BLOCK``-th key (a sparse index, as Lucene keeps
    its terms index), so a lookup reads one block of keys; nothing of the file is mapped, so what
    a search reads stays in the system's page cache, not in the process (a mapped key table
    pulls its neighbouring pages into every worker's resident memory)."""

    def __init__(self, fd: int, where: dict):
        self.fd = fd
        self.count = count = where["count"]
        self.keys_at = where["keys"]
        self.cardinalities_at = where["cardinalities"]
        self.data = where["data"]
        self.ends_at = where["ends"]
        keys = os.pread(fd, 8 * count, self.keys_at)
        self.index = memoryview(keys).cast("Q")[::KEY_BLOCK].tolist()

    def find(self, gram: str) -> int:
        """The position of ``gram``, or -1."""
        key = gram_key(gram)
        block = bisect_right(self.index, key) - 1
        if block < 0:
            return -1
        first = block * KEY_BLOCK
        keys = memoryview(os.pread(self.fd, 8 * min(KEY_BLOCK, self.count - first), self.keys_at + 8 * first)).cast("Q")
        i = bisect_left(keys, key)
        return first + i if i < len(keys) and keys[i] == key else -1

    def cardinality(self, i: int) -> int:
        return _U32.unpack(os.pread(self.fd, 4, self.cardinalities_at + 4 * i))[0]

    def bitmap(self, i: int) -> BitMap:
        """The documents of key ``i``."""
        if i:
            start, end = _TWO_U64.unpack(os.pread(self.fd, 16, self.ends_at + 8 * (i - 1)))
        else:
            start, end = 0, _U64.unpack(os.pread(self.fd, 8, self.ends_at))[0]
        chunk = os.pread(self.fd, end - start, self.data + start)
        if self.cardinality(i) <= FEW_DOCS:
            return BitMap(memoryview(chunk).cast("I"))
        return BitMap.deserialize(chunk)

    def all_keys(self) -> memoryview:
        return memoryview(os.pread(self.fd, 8 * self.count, self.keys_at)).cast("Q")


class _Texts:
    """One COLUMN field of a gram file: each document's text, where it starts and how long it is
    (read with ``pread``, for the documents asked about)."""

    def __init__(self, fd: int, where: dict):
        self.fd = fd
        self.starts_at = where["starts"]
        self.lengths_at = where["lengths"]

    def spans(self, first: int, last: int) -> tuple[memoryview, memoryview]:
        """(starts, lengths) of documents ``first`` to ``last`` (both included)."""
        n = last - first + 1
        starts = memoryview(os.pread(self.fd, 8 * n, self.starts_at + 8 * first)).cast("Q")
        lengths = memoryview(os.pread(self.fd, 4 * n, self.lengths_at + 4 * first)).cast("I")
        return starts, lengths


class GramReader:
    """A segment's gram file, read with ``pread`` (thread-safe: no file position): the key
    tables through a sparse index (``_Grams``), documents and texts as needed, so what a query
    reads is not kept in the process (the system's page cache keeps it)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        try:
            size = os.fstat(self._fd).st_size
            header = os.pread(self._fd, _HEADER.size, 0)
            if len(header) < _HEADER.size:
                raise ValueError(f"{self.path}: not a complete gram file")
            magic, where, length = _HEADER.unpack(header)
            if magic != MAGIC or not where or where + length > size:
                raise ValueError(f"{self.path}: not a complete gram file")
            directory = json.loads(os.pread(self._fd, length, where))
            self.doc_count: int = directory["doc_count"]
            self._grams = {name: _Grams(self._fd, spec) for name, spec in directory["grams"].items()}
            self._texts = {name: _Texts(self._fd, spec) for name, spec in directory["texts"].items()}
        except BaseException:
            os.close(self._fd)
            raise

    def has_field(self, name: str) -> bool:
        return name in self._grams

    def frequency(self, name: str, gram: str) -> int:
        """How many documents (deleted ones included) hold ``gram``."""
        grams = self._grams.get(name)
        if grams is None:
            return 0
        i = grams.find(gram)
        return grams.cardinality(i) if i >= 0 else 0

    def docs(self, name: str, gram: str) -> BitMap:
        """The documents (deleted ones included) that hold ``gram``."""
        grams = self._grams.get(name)
        if grams is None:
            return BitMap()
        i = grams.find(gram)
        return grams.bitmap(i) if i >= 0 else BitMap()

    def items(self, name: str):
        """Every (gram, documents) of a field, in key order."""
        grams = self._grams[name]
        for i, key in enumerate(grams.all_keys()):
            yield key_gram(key), grams.bitmap(i)

    def text(self, name: str, docnum: int) -> bytes:
        starts, lengths = self._texts[name].spans(docnum, docnum)
        return os.pread(self._fd, lengths[0], starts[0])

    def contains(self, name: str, docnum: int, needle: bytes) -> bool:
        """Whether the document's text holds ``needle``."""
        return needle in self.text(name, docnum)

    def matching(self, name: str, docs, needle: bytes) -> list[int]:
        """The documents of ``docs`` (ascending, of this segment) whose text holds ``needle``.

        Texts lie in document order, so neighbouring candidates are read together: one
        ``pread`` per run of candidates less than ``READ_GAP`` bytes apart (up to ``READ_SPAN``)."""
        docs = list(docs)
        if not docs:
            return []
        texts = self._texts[name]
        if docs[-1] - docs[0] < SPARSE_CANDIDATES * len(docs):  # the spans of the range, in one read
            base = docs[0]
            starts, lengths = texts.spans(base, docs[-1])
            docs = [d - base for d in docs]
        else:  # few candidates far apart: each one's span
            base = 0
            spans = [texts.spans(d, d) for d in docs]
            starts = {d: s[0][0] for d, s in zip(docs, spans)}
            lengths = {d: s[1][0] for d, s in zip(docs, spans)}
        fd = self._fd
        found = []
        i = 0
        while i < len(docs):
            first = starts[docs[i]]
            end = first + lengths[docs[i]]
            j = i + 1
            while j < len(docs):
                start = starts[docs[j]]
                if start - end > READ_GAP or start + lengths[docs[j]] - first > READ_SPAN:
                    break
                end = start + lengths[docs[j]]
                j += 1
            chunk = os.pread(fd, end - first, first)
            find = chunk.find
            for d in docs[i:j]:
                at = starts[d] - first
                if find(needle, at, at + lengths[d]) >= 0:
                    found.append(base + d)
            i = j
        return found

    def close(self) -> None:
        self._grams = {}
        self._texts = {}
        os.close(self._fd)
