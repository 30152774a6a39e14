"""The gazetteer of Liaoning's cities and districts, read from ``data/gazetteer.toml``."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable
from importlib import resources


@dataclass(frozen=True, slots=True)
class Place:
    city: str  # city short name
    district: str  # canonical district name, "" for the city itself


@dataclass(frozen=True, slots=True)
class PlaceMentions:
    main_city: str
    cities: list[str]  # most mentioned first
    districts: list[str]  # canonical names, in order of first mention


class Gazetteer:
    def __init__(self, data: dict):
        self.cities: list[str] = []
        self._names: dict[str, list[Place]] = {}
        district_cities: Counter[str] = Counter()
        for city in data["city"]:
            for district in city.get("districts", []):
                district_cities[district["name"]] += 1
        for city in data["city"]:
            short = city["short"]
            self.cities.append(short)
            self._add(city["name"], Place(short, ""))
            if not city.get("short_is_ambiguous", False):
                self._add(short, Place(short, ""))
            for alias in city.get("aliases", []):
                self._add(alias, Place(short, ""))
            for district in city.get("districts", []):
                name = district["name"]
                canonical = name if district_cities[name] == 1 else short + name
                place = Place(short, canonical)
                for spelling in [name, *district.get("aliases", [])]:
                    self._add(spelling, place)
        self.districts_by_city: dict[str, list[str]] = {}
        for places in self._names.values():
            for place in places:
                if place.district:
                    known = self.districts_by_city.setdefault(place.city, [])
                    if place.district not in known:
                        known.append(place.district)

    def _add(self, spelling: str, place: Place) -> None:
        places = self._names.setdefault(spelling, [])
        if place not in places:
            places.append(place)

    def dictionary_words(self) -> list[str]:
        """Every spelling, for jieba's user dictionary."""
        return list(self._names)

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

    def find(self, words: Iterable[str]) -> PlaceMentions:
        """Places among jieba ``words`` (every spelling is one token in jieba's dictionary, so
        "搭建平台" is no mention of 建平); a district also counts for its city."""
        hits = [self._names[word] for word in words if word in self._names]
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


def other_names(gazetteer: Gazetteer, spelling: str) -> list[str]:
    """The other names of the one place ``spelling`` names (阜蒙县 -> 阜新蒙古族自治县, 阜新县, …);
    [] when it names no place, or several (an ambiguous name is not widened)."""
    places = gazetteer._names.get(spelling, [])
    if len(places) != 1:
        return []
    return [name for name, named in gazetteer._names.items() if named == places and name != spelling]


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    data = resources.files("indexer").joinpath("data/gazetteer.toml").read_text("utf-8")
    return Gazetteer(tomllib.loads(data))
