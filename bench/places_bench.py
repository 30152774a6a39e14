"""Place-facet benchmark: precision and recall of the district and city facets on labelled samples.

Two samples, each a file of district mentions (one a line, labelled) and a file of the gold
places of each of its articles (``tests/data/README.md`` says how they were drawn and labelled):

- ``sample`` (``place_sample.jsonl``, ``place_articles.jsonl``): 300 mentions, all of the seeds'
  and a seeded draw from the two corpora biased to ambiguous names; the context rules of
  ``indexer.gazetteer`` were written looking at it;
- ``heldout`` (``place_heldout_sample.jsonl``, ``place_heldout_articles.jsonl``): every other
  corpus article with a mention, labelled after the rules were written and never used to tune them.

The articles come from the seeds (``corpus/``) and ../shared/corpora/cctv_xwlb and
cctv_xwlb_2012_2018; their text is read from there at run time (never copied into the project)
and goes through the real reading and metadata steps: the seeds' pages through their input
format (split into articles, each with its catalog entry), the records through ``parse_record``,
then both through ``indexer.documents.prepare_article`` (normalise, segment with jieba,
``metadata.enrich``). None of these articles is over the limits of ``indexer.limits``, so none
would be split.

Scores, over the sampled articles:

- district facet: (article, district) pairs, predicted (``article.districts``) against gold;
- city facet: the one ``city`` value of an article, right when it is one of the article's
  acceptable main cities (gold ``city``; an article about no Liaoning place has none, so any
  city given to it is wrong);
- cities (the stored ``cities`` list, every Liaoning city the article names): pairs, as districts.

    python bench/places_bench.py [--as before|after] [--errors]
    python bench/places_bench.py --draw sample|heldout [--seed N] [--budget N] > candidates.jsonl

Results: bench/results/places.json (one entry per ``--as`` name, so the "before" figures stay
beside the latest ones and the table shows both).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.analysis import Segmented, segment  # noqa: E402
from indexer.documents import prepare_article  # noqa: E402
from indexer.gazetteer import load_gazetteer  # noqa: E402
from indexer.normalize import normalize  # noqa: E402
from indexer.records import Article, Problem  # noqa: E402
from indexer.sources import find_sources, load_catalog, catalog_entry, page_id_of, parse_record, open_lines  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "tests" / "data"
SAMPLES = {  # name -> (mentions, gold articles)
    "sample": (DATA / "place_sample.jsonl", DATA / "place_articles.jsonl"),
    "heldout": (DATA / "place_heldout_sample.jsonl", DATA / "place_heldout_articles.jsonl"),
}
SEEDS = ROOT / "corpus"
CORPORA_DIR = ROOT.parent / "shared" / "corpora"
CORPORA = ("cctv_xwlb", "cctv_xwlb_2012_2018")
CONTEXT = 40  # characters of context kept on each side of a mention

# The draw: every seed article with a district mention, then corpus articles drawn at random
# (fixed seed) until the sample holds BUDGET mentions; an article with a "suspect" mention is
# SUSPECT_WEIGHT times as likely to be drawn (see ``suspect``).
DRAW_SEED = 20261124
BUDGET = 300
SUSPECT_WEIGHT = 4.0
# Names that exist outside Liaoning too (天津 和平区, 连云港 海州区, 四平 铁西区/铁东区, Damascus's
# 东古塔区, …), written down before labelling; only the draw uses this list.
KNOWN_ELSEWHERE = {"和平区", "铁西区", "铁东区", "中山区", "海州区", "清河区", "太平区", "古塔区",
                   "龙城区", "振兴区", "白塔区", "双塔区", "连山区", "龙港区", "站前区", "西市区"}
COMPANY_AFTER = re.compile(r"^[^，。、；：！？“”‘’（）()《》\s,.;:!?]{0,12}?(?:有限公司|有限责任公司|股份|集团|公司)")


# --- reading the sampled articles through the indexer's own input formats ---------------------

@dataclass
class Item:
    corpus: str
    article: Article  # as read, not yet enriched
    catalog: object = None  # the seeds' catalog entry
    file: str = ""  # seeds: the page file


def seed_items() -> Iterator[Item]:
    """The seeds' articles, as the page format splits them (the catalog entry with each)."""
    files, _ = find_sources([SEEDS])
    catalog, _ = load_catalog(SEEDS)
    for file in files:
        if isinstance(file, Problem):
            continue
        entry = catalog_entry(catalog, file)
        for task in file.format.tasks(file, entry, lambda f=file: page_id_of(f.relative)):
            for article in file.format.articles(task):
                if isinstance(article, Article):
                    yield Item("seeds", article, entry, file.relative)


def corpus_items(corpus: str, ids: set[str] | None = None) -> Iterator[Item]:
    """A corpus's records (only ``ids``, when given: other lines are not parsed)."""
    path = CORPORA_DIR / corpus / "articles.jsonl.gz"
    files, _ = find_sources([path])
    file = files[0]
    if isinstance(file, Problem):
        raise SystemExit(f"cannot read {path}: {file.reason}")
    with open_lines(path) as handle:
        for number, line in enumerate(handle, 1):
            if ids is not None:
                # Each line starts {"id": "…", so the id is read without parsing the line.
                start = line.find(b'"id": "') + 7
                if line[start:line.find(b'"', start)].decode() not in ids:
                    continue
            for record in parse_record(file, number, line):
                if isinstance(record, Article):
                    yield Item(corpus, record)


def enriched(item: Item):
    """The article through the indexer's preparation (``metadata.enrich`` included)."""
    if item.corpus == "seeds":
        return prepare_article(item.article, "", item.catalog)
    return prepare_article(item.article, "", None)


def district_mentions(segmented: Segmented) -> list[tuple[str, int]]:
    """Words that are a spelling of a district or county in the gazetteer, with their offsets in
    the normalised text (the candidates, whatever the metadata step then makes of them)."""
    gazetteer = load_gazetteer()
    return [(word, start) for word, start, _ in segmented.words
            if any(place.district for place in gazetteer.places(word))]


def city_mentions(segmented: Segmented) -> list[tuple[str, int]]:
    gazetteer = load_gazetteer()
    return [(word, start) for word, start, _ in segmented.words
            if any(not place.district for place in gazetteer.places(word))]


def context(norm: str, start: int, length: int) -> str:
    return norm[max(0, start - CONTEXT):start + length + CONTEXT]


# --- the draw ---------------------------------------------------------------------------------

def suspect(word: str, start: int, norm: str) -> bool:
    """A mention worth more of the sample: a short form (no 区/县/市: 黑山, 建平, 长海 are also a
    country and given names), a name known to exist elsewhere, or one followed by a company
    suffix in the same clause."""
    return (not word.endswith(("区", "县", "市")) or word in KNOWN_ELSEWHERE
            or bool(COMPANY_AFTER.match(norm[start + len(word):])))


def draw(seed: int = DRAW_SEED, budget: int = BUDGET) -> tuple[list[dict], list[dict]]:
    """The candidate mentions, unlabelled: the sample (all of the seeds', then corpus articles
    at random) and the held-out rest (every other corpus article's)."""
    rows: list[dict] = []
    rest: list[dict] = []

    def add(item: Item, norm: str, found: list[tuple[str, int]], into: list[dict]) -> None:
        for word, start in found:
            into.append({"corpus": item.corpus, "id": item.article.id, "file": item.file,
                         "title": item.article.title, "mention": word, "offset": start,
                         "context": context(norm, start, len(word))})

    for item in seed_items():
        norm = normalize(item.article.text)
        if found := district_mentions(segment(norm)):
            add(item, norm, found, rows)
    pool = []
    spellings = [w for w in load_gazetteer().dictionary_words()
                 if any(p.district for p in load_gazetteer().places(w))]
    prefilter = re.compile("|".join(map(re.escape, sorted(spellings, key=len, reverse=True))))
    for corpus in CORPORA:
        for item in corpus_items(corpus):
            norm = normalize(item.article.text)
            if not prefilter.search(norm):
                continue
            if found := district_mentions(segment(norm)):
                weight = SUSPECT_WEIGHT if any(suspect(w, s, norm) for w, s in found) else 1.0
                pool.append((item, norm, found, weight))
    rng = random.Random(seed)
    # Weighted sampling without replacement (Efraimidis-Spirakis): the largest u ** (1 / w).
    keyed = sorted(pool, key=lambda entry: rng.random() ** (1 / entry[3]), reverse=True)
    for item, norm, found, _ in keyed:
        add(item, norm, found, rows if len(rows) < budget else rest)
    return rows, rest


# --- scoring ----------------------------------------------------------------------------------

def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def load_sample(name: str = "sample") -> tuple[list[dict], list[dict]]:
    """A sample's labelled mentions and its articles' gold places."""
    mentions, articles = SAMPLES[name]
    return read_jsonl(mentions), read_jsonl(articles)


def sampled_items(articles: list[dict]) -> dict[tuple[str, str], Item]:
    wanted: dict[str, set[str]] = {}
    for gold in articles:
        wanted.setdefault(gold["corpus"], set()).add(gold["id"])
    items: dict[tuple[str, str], Item] = {}
    if "seeds" in wanted:
        items.update({("seeds", i.article.id): i for i in seed_items() if i.article.id in wanted["seeds"]})
    for corpus in CORPORA:
        if corpus in wanted:
            items.update({(corpus, i.article.id): i for i in corpus_items(corpus, wanted[corpus])})
    return items


def ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def counts(tp: int, fp: int, fn: int) -> dict:
    return {"precision": round(ratio(tp, tp + fp), 4), "recall": round(ratio(tp, tp + fn), 4),
            "tp": tp, "fp": fp, "fn": fn}


def score_all(names: Iterable[str] = SAMPLES) -> dict[str, dict]:
    """``score`` for each named sample, reading the corpora once."""
    loaded = {name: load_sample(name) for name in names}
    items = sampled_items([a for _, articles in loaded.values() for a in articles])
    return {name: score(mentions, articles, items) for name, (mentions, articles) in loaded.items()}


def score(mentions: list[dict], articles: list[dict], items: dict | None = None) -> dict:
    """Run the metadata step on every sampled article and score it against the gold places."""
    if items is None:
        items = sampled_items(articles)
    by_article: dict[tuple[str, str], list[dict]] = {}
    for mention in mentions:
        by_article.setdefault((mention["corpus"], mention["id"]), []).append(mention)
    district = [0, 0, 0]
    city = [0, 0, 0]
    cities = [0, 0, 0]
    errors: list[dict] = []
    stale: list[str] = []
    missing = [f"{g['corpus']}:{g['id']}" for g in articles if (g["corpus"], g["id"]) not in items]
    for gold in articles:
        key = (gold["corpus"], gold["id"])
        if key not in items:
            continue
        prepared = enriched(items[key])
        article = prepared.article
        found = district_mentions(prepared.content)
        labelled = [(m["mention"], m["offset"]) for m in by_article.get(key, [])]
        if sorted(found) != sorted(labelled):
            stale.append(f"{key[0]}:{key[1]}")
        predicted, expected = set(article.districts), set(gold["districts"])
        district[0] += len(predicted & expected)
        district[1] += len(predicted - expected)
        district[2] += len(expected - predicted)
        acceptable = set(gold["city"])
        if article.city and article.city in acceptable:
            city[0] += 1
        else:
            city[1] += bool(article.city)
            city[2] += bool(acceptable)
        named, named_gold = set(article.cities), set(gold["cities"])
        cities[0] += len(named & named_gold)
        cities[1] += len(named - named_gold)
        cities[2] += len(named_gold - named)
        wrong_city = bool(article.city) != bool(acceptable) or (article.city and article.city not in acceptable)
        if predicted != expected or wrong_city:
            errors.append({"article": f"{key[0]}:{key[1]}", "title": gold["title"][:30],
                           "district_fp": sorted(predicted - expected),
                           "district_fn": sorted(expected - predicted),
                           "city": article.city, "city_gold": gold["city"]})
    return {
        "sample": {"articles": len(articles), "mentions": len(mentions),
                   "true_mentions": sum(1 for m in mentions if m["label"]),
                   "gold_districts": sum(len(g["districts"]) for g in articles),
                   "articles_with_gold_city": sum(1 for g in articles if g["city"])},
        "district": counts(*district),
        "city": counts(*city),
        "cities": counts(*cities),
        "errors": errors,
        "stale": stale,
        "missing": missing,
    }


ROWS = (("district", "district facet (article, district) pairs"),
        ("city", "city facet (one value per article)"),
        ("cities", "cities named (stored list, pairs)"))


def table(runs: dict[str, dict[str, dict]]) -> str:
    """The runs side by side, per sample: precision, recall and counts per facet."""
    lines = ["| sample | facet | run | precision | recall | TP | FP | FN |",
             "|---|---|---|---|---|---|---|---|"]
    for sample in SAMPLES:
        for name, label in ROWS:
            for run, results in runs.items():
                if sample not in results:
                    continue
                row = results[sample][name]
                lines.append(f"| {sample} | {label} | {run} | {row['precision']:.1%} | {row['recall']:.1%} | "
                             f"{row['tp']} | {row['fp']} | {row['fn']} |")
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--as", dest="run", default="after", help="name of this run in places.json")
    parser.add_argument("--errors", action="store_true", help="list the articles scored wrong")
    parser.add_argument("--draw", choices=tuple(SAMPLES), help="print a sample's candidate mentions (JSON Lines)")
    parser.add_argument("--seed", type=int, default=DRAW_SEED)
    parser.add_argument("--budget", type=int, default=BUDGET)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.draw:
        sample, rest = draw(args.seed, args.budget)
        for row in sample if args.draw == "sample" else rest:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    results = score_all()
    for name, result in results.items():
        for problem, what in (("missing", "sampled articles not found"), ("stale", "mentions differ from the sample")):
            if result[problem]:
                print(f"warning: {name}: {what}: {', '.join(result[problem])}", file=sys.stderr)
        if args.errors:
            for error in result["errors"]:
                print(json.dumps({"sample": name, **error}, ensure_ascii=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "places.json"
    saved = json.loads(path.read_text("utf-8")) if path.exists() else {}
    saved[args.run] = results
    path.write_text(json.dumps(saved, ensure_ascii=False, indent=2) + "\n", "utf-8")
    for name, result in results.items():
        s = result["sample"]
        print(f"{name}: {s['articles']} articles, {s['mentions']} district mentions "
              f"({s['true_mentions']} true), {s['gold_districts']} gold (article, district) pairs, "
              f"{s['articles_with_gold_city']} articles with a gold city")
    print(table({run: saved[run] for run in ("before", args.run) if run in saved}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
