"""Progress of long work, drawn on stderr when it is a terminal and silent otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO | None = None,
                 enabled: bool | None = None):
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def advance(self, amount: int, note: str = "") -> None:
        self.done += amount
        now = time.monotonic()
        if self.enabled and (now - self._drawn > 0.1 or self.done >= self.total):
            self._drawn = now
            self._draw(note)

    def _draw(self, note: str) -> None:
        fraction = min(self.done / self.total, 1.0)
        filled = int(fraction * 30)
        elapsed = time.monotonic() - self.started
        eta = elapsed / fraction - elapsed if fraction > 0 else 0
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:6.1%}  {elapsed:5.0f}s  eta {eta:4.0f}s {note[:30]:30}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
