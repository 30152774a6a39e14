"""The gazetteer of Liaoning's cities and districts, read from ``data/gazetteer.toml``.

``Gazetteer.find`` turns an article's jieba words into its places. Given the article's text, it
also judges each district spelling in context (the rules, and the words they use, are data: the
``ambiguous`` marks on districts and the ``[context]`` table of ``gazetteer.toml``):

1. *Another place's district.* A spelling right after a place outside Liaoning (``elsewhere``:
   天津和平区, 天津市和平区, 天津的和平区, 连云港市海州区, 加勒比和平区) never counts.
2. *Needs context.* An ambiguous spelling (和平区, 黑山, 建平, …: it also names something else), a
   spelling of two cities' districts (铁西区), and a company's name (the spelling followed in its
   clause by 有限公司, 集团, …; then every mention of that spelling in the article) count only when
   the district's city is named within ``window`` characters (沈阳市和平区, 辽宁沈阳的和平区) or is
   the article's main city (the catalog's or record's city, else the one named most by city
   names and by the district spellings that need no context). An ambiguous spelling that is no
   company's name also counts right after the province's name (辽宁凤城市委) or listed next to a
   Liaoning place (桓仁、兴城抽水蓄能电站).
3. Every other spelling counts, as it always did; so does one directly followed by a word only a
   place takes (``place_suffixes``: 黑山阻击战, the battle at 黑山县).

Without the text (a filter value being canonicalised) every spelling counts: there is no context
to judge.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable
from importlib import resources

from indexer.normalize import HAN


@dataclass(frozen=True, slots=True)
class Place:
    city: str  # city short name
    district: str  # canonical district name, "" for the city itself


@dataclass(frozen=True, slots=True)
class PlaceMentions:
    main_city: str
    cities: list[str]  # most mentioned first
    districts: list[str]  # canonical names, in order of first mention
    # District spellings that did not count, with their offsets and why (only when judged in context).
    dropped: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Context:
    """The ``[context]`` table of ``gazetteer.toml`` (see the module docstring)."""

    window: int = 50
    province: tuple[str, ...] = ()
    elsewhere: tuple[str, ...] = ()
    company_suffixes: tuple[str, ...] = ()
    branch_suffixes: tuple[str, ...] = ()
    place_suffixes: tuple[str, ...] = ()
    list_separators: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: dict) -> Context:
        return cls(window=int(data.get("window", 50)),
                   **{key: tuple(data.get(key, ())) for key in ("province", "elsewhere", "company_suffixes",
                                                                "branch_suffixes", "place_suffixes", "list_separators")})


def _alternation(words: Iterable[str]) -> str:
    return "|".join(map(re.escape, sorted(set(words), key=len, reverse=True))) or "(?!)"


@dataclass(slots=True)
class _Mention:
    spelling: str
    start: int
    end: int
    places: list[Place]
    needs_context: bool = False
    company: bool = False


class Gazetteer:
    def __init__(self, data: dict):
        self.cities: list[str] = []
        self._names: dict[str, list[Place]] = {}
        self._ambiguous: set[str] = set()
        city_spellings: list[str] = []
        district_cities: Counter[str] = Counter()
        for city in data["city"]:
            for district in city.get("districts", []):
                district_cities[district["name"]] += 1
        for city in data["city"]:
            short = city["short"]
            self.cities.append(short)
            spellings = [city["name"], *([] if city.get("short_is_ambiguous", False) else [short]),
                         *city.get("aliases", [])]
            for spelling in spellings:
                self._add(spelling, Place(short, ""))
            city_spellings.extend(spellings)
            for district in city.get("districts", []):
                name = district["name"]
                canonical = name if district_cities[name] == 1 else short + name
                place = Place(short, canonical)
                every = [name, *district.get("aliases", [])]
                for spelling in every:
                    self._add(spelling, place)
                ambiguous = district.get("ambiguous", False)
                self._ambiguous.update(every if ambiguous is True else ambiguous or [])
        self.districts_by_city: dict[str, list[str]] = {}
        for places in self._names.values():
            for place in places:
                if place.district:
                    known = self.districts_by_city.setdefault(place.city, [])
                    if place.district not in known:
                        known.append(place.district)
        self.context = Context.from_data(data.get("context", {}))
        context = self.context
        self._city_names = re.compile(_alternation(city_spellings))
        self._elsewhere_names = re.compile(_alternation(context.elsewhere))
        self._after_elsewhere = re.compile(f"(?:{_alternation(context.elsewhere)})[省市]?的?$")
        self._after_province = re.compile(f"(?:{_alternation(context.province)})$")
        self._company = re.compile(f"[{HAN}0-9a-z]{{0,12}}?(?:{_alternation(context.company_suffixes)})")
        self._province_word = re.compile(f"^(?:{_alternation(context.province)})(.+)$")

    def _add(self, spelling: str, place: Place) -> None:
        places = self._names.setdefault(spelling, [])
        if place not in places:
            places.append(place)

    def dictionary_words(self) -> list[str]:
        """Every spelling, for jieba's user dictionary."""
        return list(self._names)

    def places(self, spelling: str) -> list[Place]:
        """What a spelling can mean (a city, or a district with its city); [] if unknown."""
        return list(self._names.get(spelling, ()))

    def other_names(self, spelling: str) -> list[str]:
        """The other names of the one place ``spelling`` names (阜蒙县 -> 阜新蒙古族自治县, 阜新县, …);
        [] when it names no place, or several (an ambiguous name is not widened)."""
        places = self._names.get(spelling, [])
        if len(places) != 1:
            return []
        return [name for name, named in self._names.items() if named == places and name != spelling]

    def is_ambiguous(self, spelling: str) -> bool:
        """Marked ``ambiguous`` in the data, or a spelling of two cities' districts (铁西区)."""
        return spelling in self._ambiguous or len(self._names.get(spelling, ())) > 1

    def canonical_city(self, value: str) -> str:
        """A city as the index names it: 阜新市 -> 阜新; anything else unchanged."""
        for city in self.cities:
            if value in (city, city + "市"):
                return city
        return value

    def canonical_district(self, value: str, words: Iterable[str]) -> str:
        """A district as the index names it (海州 -> 海州区, an alias -> its name); ``words``
        are the jieba words of ``value``; anything unknown is returned unchanged."""
        known = [d for ds in self.districts_by_city.values() for d in ds]
        if value in known:
            return value
        for suffix in ("区", "县", "市"):
            if value + suffix in known:
                return value + suffix
        mentions = self.find(words)
        return mentions.districts[0] if len(mentions.districts) == 1 else value

    def _lookup(self, word: str) -> list[Place]:
        """The places a word means; jieba's words "辽宁沈阳", "辽宁大连" mean the city."""
        if word in self._names:
            return self._names[word]
        compound = self._province_word.match(word)
        if compound and any(not p.district for p in self._names.get(compound.group(1), ())):
            return self._names[compound.group(1)]
        return []

    def find(self, words: Iterable, text: str | None = None, city: str = "") -> PlaceMentions:
        """Places among jieba ``words`` (every spelling is one token in jieba's dictionary, so
        "搭建平台" is no mention of 建平); a district also counts for its city.

        ``words`` are strings, or ``(word, start, end)`` with offsets into ``text``, the
        normalised text they come from: then each district spelling is judged in context (see
        the module docstring), ``city`` being the article's city when its catalog or record
        gives one."""
        if text is None:
            return self._find_anywhere(w if isinstance(w, str) else w[0] for w in words)
        return self._find_in_context(list(words), text, city)

    def _find_anywhere(self, words: Iterable[str]) -> PlaceMentions:
        hits = [places for places in map(self._lookup, words) if places]
        counts: Counter[str] = Counter()
        for places in hits:
            if len(places) == 1:
                counts[places[0].city] += 1
        districts: list[str] = []
        for places in hits:
            # A name shared by two cities goes to the one the text mentions most.
            place = max(places, key=lambda p: counts[p.city]) if len(places) > 1 else places[0]
            if len(places) > 1:
                counts[place.city] += 1
            if place.district and place.district not in districts:
                districts.append(place.district)
        ordered = [city for city, _ in counts.most_common()]
        return PlaceMentions(ordered[0] if ordered else "", ordered, districts)

    def _find_in_context(self, words: list[tuple[str, int, int]], text: str, city: str) -> PlaceMentions:
        counts: Counter[str] = Counter()
        mentions: list[_Mention] = []
        dropped: list[tuple[str, int, str]] = []
        for word, start, end in words:
            places = self._lookup(word)
            if not places:
                continue
            if not places[0].district:
                counts[places[0].city] += 1
                continue
            if self._after_elsewhere.search(text, max(0, start - 12), start):
                dropped.append((word, start, "right after a place outside Liaoning"))
                continue
            mentions.append(_Mention(word, start, end, places))
        companies = {m.spelling for m in mentions if self._is_company(text, m.end)}
        for m in mentions:
            m.company = m.spelling in companies
            named_as_place = text.startswith(self.context.place_suffixes, m.end) and len(m.places) == 1
            m.needs_context = not named_as_place and (m.company or self.is_ambiguous(m.spelling))
            if not m.needs_context:
                counts[m.places[0].city] += 1
        main = city or (counts.most_common(1)[0][0] if counts else "")
        accepted: dict[int, Place] = {m.start: m.places[0] for m in mentions if not m.needs_context}
        for m in mentions:
            if not m.needs_context:
                continue
            place, reason = self._judge(m, text, main, mentions, accepted)
            if place is None:
                dropped.append((m.spelling, m.start, reason))
                continue
            accepted[m.start] = place
            counts[place.city] += 1
        districts: list[str] = []
        for start in sorted(accepted):
            if accepted[start].district not in districts:
                districts.append(accepted[start].district)
        ordered = [name for name, _ in counts.most_common()]
        return PlaceMentions(ordered[0] if ordered else "", ordered, districts, dropped)

    def _is_company(self, text: str, end: int) -> bool:
        """Followed in its clause by a company suffix, and not directly by a branch suffix."""
        if text.startswith(self.context.branch_suffixes, end):
            return False
        return self._company.match(text, end) is not None

    def _judge(self, m: _Mention, text: str, main: str, mentions: list[_Mention],
               accepted: dict[int, Place]) -> tuple[Place | None, str]:
        """The place a mention that needs context stands for, or None and why not."""
        near = self._city_near(text, m.start, m.end, {p.city for p in m.places})
        if near:
            return next(p for p in m.places if p.city == near), ""
        if main in {p.city for p in m.places}:
            return next(p for p in m.places if p.city == main), ""
        if m.company:
            return None, "a company's name, its city not named nearby"
        if len(m.places) == 1:
            if self._after_province.search(text, max(0, m.start - 3), m.start):
                return m.places[0], ""
            if self._listed_with_a_place(m, text, mentions, accepted):
                return m.places[0], ""
        return None, "ambiguous, its city not named nearby nor the article's"

    def _city_near(self, text: str, start: int, end: int, cities: set[str]) -> str:
        """The nearest of ``cities`` named within the window around ``text[start:end]``, or ""."""
        low, high = max(0, start - self.context.window), min(len(text), end + self.context.window)
        foreign = [(f.start(), f.end()) for f in self._elsewhere_names.finditer(text, low, high)]
        best, distance = "", None
        for found in self._city_names.finditer(text, low, high):
            if any(a <= found.start() and found.end() <= b for a, b in foreign):
                continue  # 鞍山 in 马鞍山
            name = next((p.city for p in self._names[found.group()] if not p.district), "")
            gap = start - found.end() if found.end() <= start else found.start() - end
            if name in cities and (distance is None or gap < distance):
                best, distance = name, gap
        return best

    def _listed_with_a_place(self, m: _Mention, text: str, mentions: list[_Mention],
                             accepted: dict[int, Place]) -> bool:
        """Next to a Liaoning place in a list: 桓仁、兴城 (a city name or a counted district)."""
        separators = self.context.list_separators
        before, after = text[m.start - 1:m.start], text[m.end:m.end + 1]
        neighbours = [(n.start, n.end) for n in mentions if n.start in accepted]
        neighbours += [(c.start(), c.end()) for c in self._city_names.finditer(text, max(0, m.start - 8), m.end + 8)]
        for start, end in neighbours:
            if (before in separators and end == m.start - 1) or (after in separators and start == m.end + 1):
                return True
        return False


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    data = resources.files("indexer").joinpath("data/gazetteer.toml").read_text("utf-8")
    return Gazetteer(tomllib.loads(data))
