"""The topic taxonomy, read from ``data/topics.toml``: keywords per topic, multi-label."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    keywords: tuple[str, ...]


class Taxonomy:
    def __init__(self, data: dict):
        self.topics = [Topic(t["name"], tuple(t["keywords"])) for t in data["topic"]]
        self.min_hits = int(data.get("min_hits", 2))
        self.chars_per_hit = int(data.get("chars_per_hit", 700))
        self.max_topics = int(data.get("max_topics", 4))

    def classify(self, text: str) -> list[str]:
        """Topics of normalised ``text``, strongest first."""
        needed = max(self.min_hits, len(text) // self.chars_per_hit)
        scored = []
        for topic in self.topics:
            hits = sum(text.count(keyword) for keyword in topic.keywords)
            if hits >= needed:
                scored.append((-hits, topic.name))
        return [name for _, name in sorted(scored)[:self.max_topics]]


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    data = resources.files("indexer").joinpath("data/topics.toml").read_text("utf-8")
    return Taxonomy(tomllib.loads(data))
