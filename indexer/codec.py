"""The index codec: Whoosh's W3 codec with postings of rare terms stored inline.

W3 can store the postings of a term with few documents inside its term-table entry instead of
writing a separate compressed block for it. That path has a typo in whoosh-reloaded 2.7.5
(``set_inline`` for ``TermInfo.set_inlined``), so it never runs. The character-gram field makes
hundreds of thousands of rare terms, and a block per term is the largest single cost of writing
the index; this subclass fixes the call and turns inlining on.

It also caches the *absence* of a field-length column: Whoosh looks up a document's field
length for every posting it writes, and for a field without lengths (the gram fields are not
scored) the stock reader checks the file system each time, one ``stat`` per posting.

Writing postings is the indexer's hot loop (about two postings per character of text), so the
field writer's loop is a lean copy of Whoosh's ``FieldWriter.add_postings``: the same calls in
the same order, without per-posting type assertions and without looking up the document's
field length for fields that are not scored (the stock code looks it up and gets 0), and
reading a scored field's lengths once per document, not once per posting. Like the
stock loop it refuses postings out of order (they must come sorted by field, term, document:
Whoosh's ``OutOfOrderError``), and it also checks the documents within a term (which the stock
loop does not): one comparison with the previous posting.

The codec object is pickled into the index's table of contents, so it must stay importable
under this name.
"""

from __future__ import annotations

from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PerDocReader, W3PostingsWriter

INLINE_LIMIT = 8


class _InliningPostingsWriter(W3PostingsWriter):
    def add_posting(self, id_, weight, vbytes, length=None):
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        if vbytes:
            self._values.append(vbytes)
        if length:
            minlength = self._minlength
            if minlength is None or length < minlength:
                self._minlength = length
            if length > self._maxlength:
                self._maxlength = length

    def finish_postings(self):
        terminfo = self._terminfo
        if not self.written() and len(self) < self._inlinelimit:
            terminfo.add_block(self)
            terminfo.set_inlined(self._ids, self._weights, self._values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class _FieldWriter(W3FieldWriter):
    def add_postings(self, schema, lengths, items):
        field_length = lengths.doc_field_length if lengths else None
        finish_term = self.finish_term
        lastfn = lasttext = None
        lastdoc = -1
        add = scored = None
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != lastfn:
                if lastfn is not None and fieldname < lastfn:
                    raise OutOfOrderError(_out_of_order(lastfn, lasttext, lastdoc, fieldname, btext, docnum))
                if lasttext is not None:
                    finish_term()
                if lastfn is not None:
                    self.finish_field()
                fieldobj = schema[fieldname]
                self.start_field(fieldname, fieldobj)
                add = self._postwriter.add_posting
                scored = field_length is not None and fieldobj.scorable
                if scored:
                    field_lengths = [field_length(d, fieldname) for d in range(lengths.doc_count_all())]
                lastfn, lasttext = fieldname, None
            if docnum == -1:  # spelling words (unused here)
                continue
            if btext != lasttext:
                if lasttext is not None:
                    if btext < lasttext:
                        raise OutOfOrderError(_out_of_order(lastfn, lasttext, lastdoc, fieldname, btext, docnum))
                    finish_term()
                self.start_term(btext)
                lasttext = btext
            elif docnum <= lastdoc:  # the one check per posting: documents ascend within a term
                raise OutOfOrderError(_out_of_order(lastfn, lasttext, lastdoc, fieldname, btext, docnum))
            lastdoc = docnum
            add(docnum, weight, value or b"", field_lengths[docnum] if scored else None)
        if lasttext is not None:
            finish_term()
        if lastfn is not None:
            self.finish_field()


def _out_of_order(fieldname, btext, docnum, next_fieldname, next_btext, next_docnum) -> str:
    return (f"postings out of order: {next_fieldname}:{next_btext!r} document {next_docnum} came after "
            f"{fieldname}:{btext!r} document {docnum} (they must come sorted by field, term, document)")


class _PerDocReader(W3PerDocReader):
    def _cached_reader(self, fieldname, column):
        if fieldname not in self._readers:
            self._readers[fieldname] = super()._cached_reader(fieldname, column)
        return self._readers[fieldname]


class NewsearchCodec(W3Codec):
    def __init__(self, blocklimit=128, compression=3, inlinelimit=INLINE_LIMIT):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids=False):
        return _InliningPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                       compression=self._compression,
                                       inlinelimit=self._inlinelimit)

    def per_document_reader(self, storage, segment):
        return _PerDocReader(storage, segment)

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)
