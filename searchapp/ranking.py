"""Ranking modes, chosen by name (an unknown name is an error that lists the choices)."""

from __future__ import annotations

from whoosh import scoring


def bm25f():
    """BM25F over the words; the title's boost (x3) lives in the schema. The core ranks documents
    with more exact-string matches first and uses this within each such tier."""
    return scoring.BM25F(B=0.75, K1=1.2)


def tf_idf():
    return scoring.TF_IDF()


RANKINGS = {"bm25f": bm25f, "tf_idf": tf_idf}


def weighting(name: str):
    try:
        return RANKINGS[name]()
    except KeyError:
        raise ValueError(f"unknown ranking {name!r}; choose one of {', '.join(RANKINGS)}") from None
