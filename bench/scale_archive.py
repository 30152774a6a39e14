"""A synthetic archive of any size, made from the two real corpora (issue 9: a million articles).

Real sentences of ``../shared/corpora/*/articles.jsonl.gz`` recombined into articles whose text
lengths follow the corpora's own distribution scaled by ``LENGTH_SCALE`` (a length drawn from a
real story, times ``LENGTH_SCALE``, then filled with random real sentences, in paragraphs as long
as real ones), each under a real headline, dated
uniformly over 1950-01-01 … 2026-08-31. About 10% are converted to traditional characters
(OpenCC ``s2t``, title and text), and about 30% are local stories: one Liaoning city's names and
its districts' names (from ``indexer/data/gazetteer.toml``) are put into some of their sentences
("在铁岭市银州区，…"), the record's ``city`` is that city and ``paper`` its daily. Sentences that
already name a Liaoning place are left out of the pool, so an article names a Liaoning place only
when it is a local story (the city facet of a search can be checked against the records).

Reproducible: file ``k`` (``part-0000k.jsonl``, ``PER_FILE`` records) is made from its own
random generator seeded with (``VERSION``, seed, k), so an archive of N articles is the first N
articles of any larger one with the same seed, whatever ``jobs``. Memory is bounded: the pools of
sentences and headlines (about 100 MB) and one record at a time per process, whatever the count.

    python bench/scale_archive.py OUT --articles N [--seed 9] [--jobs 2] [--id-prefix scale]

Writes ``OUT/part-*.jsonl`` (the indexer's JSON Lines records: id (``PREFIX-NNNNNNN``), title,
text, date, city, paper) and, last, ``OUT/scale-archive.json`` (the manifest: version, seed, counts; the indexer
passes it over). ``generate(folder, count, seed=...)`` returns the same statistics.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import gzip
import json
import os
import random
import re
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
GAZETTEER = ROOT / "indexer" / "data" / "gazetteer.toml"

VERSION = 2  # change it whenever the output for a given seed changes (the bench's cache key)
DEFAULT_SEED = 9
PER_FILE = 10_000
MANIFEST = "scale-archive.json"
FIRST_DAY = datetime.date(1950, 1, 1)
LAST_DAY = datetime.date(2026, 8, 31)
TRADITIONAL_SHARE = 0.10
PLACE_SHARE = 0.30
MIN_SENTENCE = 6  # characters: shorter fragments ("）。") are not sentences
# Issue 9 asks for "about 500 M characters at 1M articles": a regional daily's articles are longer
# than the CCTV broadcast items the corpora hold (their mean text is ~336 characters, which made
# ~355 M characters at 1M). The length drawn from a real story is multiplied by this before the
# text is filled with sentences: a mean of ~500 characters of text (version 2 of the generator).
LENGTH_SCALE = 1.5
DEFAULT_PREFIX = "scale"  # article ids: PREFIX-NNNNNNN

# The broadcast's lead-in ("央视网消息（新闻联播）：") would otherwise be in every other article.
_LEAD_IN = re.compile(r"^(?:央视网|中国网络电视台)消息[（(]新闻联播[)）][：:]\s*(?:本台消息[，,]\s*)?")
# A sentence: up to its end mark(s) and a closing quote or bracket, or the end of the paragraph.
_SENTENCE = re.compile(r"[^。！？!?]+(?:[。！？!?]+[”’」』）)]*|$)")
# Where a local story names its place: before a sentence (the sentence follows).
_PLACE_LEADS = ("在{p}，", "近日，{p}", "{p}", "记者从{p}获悉，", "据{p}有关部门介绍，", "来自{p}的消息，",
                "{p}持续发力，", "今年以来，{p}")


@dataclass(frozen=True)
class City:
    short: str
    names: tuple[str, ...]  # spellings that name the city on their own (沈阳市, 沈阳)
    full: str  # 沈阳市
    districts: tuple[tuple[str, bool], ...]  # (spelling, ambiguous: needs its city before it)


@dataclass
class Pools:
    """What articles are made of, read once per process."""

    sentences: list[str]  # sorted by length
    lengths: list[int]  # their lengths (for bisect)
    titles: list[str]
    text_lengths: list[int]  # of the real stories
    paragraph_lengths: list[int]  # of the real paragraphs
    cities: list[City]
    spellings: tuple[str, ...]  # every Liaoning place spelling of the gazetteer


def read_gazetteer(path: Path = GAZETTEER) -> tuple[list[City], tuple[str, ...]]:
    data = tomllib.loads(path.read_text("utf-8"))
    cities, every = [], set()
    for city in data["city"]:
        names = [city["name"], *city.get("aliases", [])]
        if not city.get("short_is_ambiguous", False):
            names.append(city["short"])
        every.update([city["name"], city["short"], *city.get("aliases", [])])
        districts = []
        for district in city.get("districts", []):
            ambiguous = district.get("ambiguous", False)
            for spelling in (district["name"], *district.get("aliases", [])):
                every.add(spelling)
                districts.append((spelling, ambiguous is True or spelling in (ambiguous or [])))
        cities.append(City(city["short"], tuple(names), city["name"], tuple(districts)))
    return cities, tuple(sorted(every))


def corpus_files(corpora: Path = CORPORA) -> list[Path]:
    return sorted(corpora.glob("*/articles.jsonl.gz"))


def load_pools(corpora: Path = CORPORA) -> Pools:
    """Sentences, headlines and lengths of the real corpora, in a fixed order."""
    files = corpus_files(corpora)
    if not files:
        raise FileNotFoundError(f"no corpora in {corpora} (expected */articles.jsonl.gz)")
    cities, spellings = read_gazetteer()
    local = re.compile("|".join(map(re.escape, sorted(spellings, key=len, reverse=True))))
    sentences: list[str] = []
    titles: list[str] = []
    text_lengths: list[int] = []
    paragraph_lengths: list[int] = []
    seen: set[str] = set()
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                text, title = record.get("text") or "", (record.get("title") or "").strip()
                if not text.strip():
                    continue
                text_lengths.append(len(text))
                if title:
                    titles.append(title)
                for paragraph in text.split("\n"):
                    paragraph = _LEAD_IN.sub("", paragraph.strip())
                    if not paragraph:
                        continue
                    paragraph_lengths.append(len(paragraph))
                    for sentence in _SENTENCE.findall(paragraph):
                        sentence = sentence.strip()
                        if len(sentence) >= MIN_SENTENCE and sentence not in seen:
                            seen.add(sentence)
                            sentences.append(sentence)
    seen.clear()
    joined = "\n".join(sentences)
    # One regex pass over the whole pool (not one per sentence); offsets -> sentence numbers.
    starts, offset = [], 0
    for sentence in sentences:
        starts.append(offset)
        offset += len(sentence) + 1
    dropped = {bisect.bisect_right(starts, match.start()) - 1 for match in local.finditer(joined)}
    del joined, starts
    kept = [s for n, s in enumerate(sentences) if n not in dropped]
    kept.sort(key=len)
    return Pools(kept, [len(s) for s in kept], titles, text_lengths, paragraph_lengths, cities, spellings)


class Maker:
    """Articles from the pools with one random generator (one per output file)."""

    def __init__(self, pools: Pools, rng: random.Random, to_traditional, prefix: str = DEFAULT_PREFIX):
        self.pools = pools
        self.prefix = prefix
        self.rng = rng
        self.to_traditional = to_traditional
        self.days = (LAST_DAY - FIRST_DAY).days

    def sentence(self, at_most: int | None = None) -> str:
        pools, rng = self.pools, self.rng
        if at_most is None:
            return pools.sentences[rng.randrange(len(pools.sentences))]
        fitting = bisect.bisect_right(pools.lengths, at_most)
        return pools.sentences[rng.randrange(fitting)] if fitting else pools.sentences[0]

    def text(self, length: int) -> list[list[str]]:
        """Paragraphs (lists of sentences) of about ``length`` characters."""
        rng, pools = self.rng, self.pools
        paragraphs: list[list[str]] = []
        current: list[str] = []
        filled = in_paragraph = 0
        paragraph_target = pools.paragraph_lengths[rng.randrange(len(pools.paragraph_lengths))]
        while True:
            remaining = length - filled
            if current and remaining < MIN_SENTENCE:
                break
            sentence = self.sentence()
            if len(sentence) > remaining:
                sentence = self.sentence(max(remaining, MIN_SENTENCE))
            current.append(sentence)
            filled += len(sentence)
            in_paragraph += len(sentence)
            if in_paragraph >= paragraph_target:
                paragraphs.append(current)
                current, in_paragraph = [], 0
                paragraph_target = pools.paragraph_lengths[rng.randrange(len(pools.paragraph_lengths))]
        if current:
            paragraphs.append(current)
        return paragraphs

    def place_phrase(self, city: City) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3 or not city.districts:
            return rng.choice(city.names)
        district, ambiguous = rng.choice(city.districts)
        if ambiguous or roll < 0.55:
            return city.full + district  # 阜新市海州区: the city says which 海州区
        if roll < 0.65:
            return "辽宁" + district
        return district

    def put_places(self, paragraphs: list[list[str]], city: City) -> None:
        rng = self.rng
        slots = [(p, s) for p, paragraph in enumerate(paragraphs) for s in range(len(paragraph))]
        mentions = 1 + (rng.random() < 0.5) + (rng.random() < 0.25)
        for p, s in rng.sample(slots, min(mentions, len(slots))):
            lead = rng.choice(_PLACE_LEADS).format(p=self.place_phrase(city))
            paragraphs[p][s] = lead + paragraphs[p][s]

    def record(self, number: int) -> dict:
        rng, pools = self.rng, self.pools
        length = round(pools.text_lengths[rng.randrange(len(pools.text_lengths))] * LENGTH_SCALE)
        paragraphs = self.text(length)
        title = pools.titles[rng.randrange(len(pools.titles))]
        day = FIRST_DAY + datetime.timedelta(days=rng.randrange(self.days + 1))
        record = {"id": f"{self.prefix}-{number:07d}", "title": title, "text": "", "date": day.isoformat(),
                  "paper": "辽宁日报"}
        if rng.random() < PLACE_SHARE:
            city = pools.cities[rng.randrange(len(pools.cities))]
            self.put_places(paragraphs, city)
            record["city"] = city.short
            record["paper"] = f"{city.short}日报"
        text = "\n".join("".join(paragraph) for paragraph in paragraphs)
        if rng.random() < TRADITIONAL_SHARE:
            title, text = self.to_traditional(title), self.to_traditional(text)
            record["script"] = "traditional"  # not a field the indexer reads; for the bench's figures
        record["title"], record["text"] = title, text
        return record


_POOLS: Pools | None = None


def pools() -> Pools:
    global _POOLS
    if _POOLS is None:
        _POOLS = load_pools()
    return _POOLS


def part_name(number: int) -> str:
    return f"part-{number:05d}.jsonl"


def write_part(folder: Path, number: int, first: int, count: int, seed: int,
               prefix: str = DEFAULT_PREFIX) -> dict:
    """File ``number`` with articles ``first`` … ``first + count - 1`` (ids ``prefix-NNNNNNN``);
    its statistics."""
    import opencc

    converter = opencc.OpenCC("s2t")
    maker = Maker(pools(), random.Random(f"newsearch-scale:{VERSION}:{seed}:{number}"), converter.convert,
                  prefix)
    stats = {"articles": 0, "chars": 0, "text_chars": 0, "traditional": 0, "local": 0}
    target = folder / part_name(number)
    temporary = folder / f".{target.name}.tmp"
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with open(temporary, "w", encoding="utf-8") as sink:
        lines = []
        for n in range(first, first + count):
            record = maker.record(n)
            stats["articles"] += 1
            stats["text_chars"] += len(record["text"])
            stats["chars"] += len(record["text"]) + len(record["title"])
            stats["traditional"] += record.pop("script", None) is not None
            stats["local"] += "city" in record
            lines.append(dumps(record))
            if len(lines) >= 1000:
                sink.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            sink.write("\n".join(lines) + "\n")
    os.replace(temporary, target)
    return stats


def _write_part(job: tuple) -> dict:
    return write_part(*job)


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((Path(folder) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def generate(folder: Path | str, count: int, seed: int = DEFAULT_SEED, jobs: int = 1,
             per_file: int = PER_FILE, quiet: bool = True, prefix: str = DEFAULT_PREFIX) -> dict:
    """Write an archive of ``count`` articles into ``folder`` (ids ``prefix-NNNNNNN``: another
    prefix makes articles that can be added to an index of this one); its statistics (also
    written, last, to ``folder/scale-archive.json``)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    started = time.perf_counter()
    pools()  # before forking: the workers share it
    loaded = time.perf_counter() - started
    files = (count + per_file - 1) // per_file
    jobs_list = [(folder, k, k * per_file, min(per_file, count - k * per_file), seed, prefix)
                 for k in range(files)]
    for stale in folder.glob("part-*.jsonl"):
        if stale.name not in {part_name(k) for k in range(files)}:
            stale.unlink()
    totals = {"articles": 0, "chars": 0, "text_chars": 0, "traditional": 0, "local": 0}

    def add(stats: dict) -> None:
        for key in totals:
            totals[key] += stats[key]
        if not quiet:
            print(f"\r  {totals['articles']:,} / {count:,} articles", end="", file=sys.stderr, flush=True)

    if jobs > 1 and files > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(min(jobs, files)) as pool:
            for stats in pool.imap_unordered(_write_part, jobs_list):
                add(stats)
    else:
        for job in jobs_list:
            add(write_part(*job))
    if not quiet:
        print(file=sys.stderr)
    seconds = time.perf_counter() - started
    manifest = {
        "generator_version": VERSION, "seed": seed, "id_prefix": prefix, "length_scale": LENGTH_SCALE,
        "per_file": per_file, "files": files, **totals,
        "first_day": FIRST_DAY.isoformat(), "last_day": LAST_DAY.isoformat(),
        "corpora": [str(p) for p in corpus_files()],
        "seconds": round(seconds, 2), "pool_seconds": round(loaded, 2), "jobs": jobs,
        "articles_per_s": round(count / seconds), "chars_per_s": round(totals["chars"] / seconds),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
    return {**manifest, "folder": str(folder)}


def iter_records(folder: Path | str):
    """The archive's records, in order (for checks and benchmarks)."""
    for path in sorted(Path(folder).glob("part-*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for part-*.jsonl (made if missing)")
    parser.add_argument("--articles", type=int, required=True, help="how many articles")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1); the output is the same")
    parser.add_argument("--per-file", type=int, default=PER_FILE, help=f"records per file (default {PER_FILE})")
    parser.add_argument("--id-prefix", default=DEFAULT_PREFIX,
                        help=f"article ids are PREFIX-NNNNNNN (default {DEFAULT_PREFIX})")
    args = parser.parse_args(argv)
    stats = generate(args.out, args.articles, seed=args.seed, jobs=args.jobs, per_file=args.per_file, quiet=False,
                     prefix=args.id_prefix)
    print(json.dumps(stats, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
