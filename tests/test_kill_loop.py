"""Killed at any moment, the index is exactly the version before or the version after (issue 7).

The real ``newsearch index`` (two worker processes) alternates between an update (adding a
folder) and a rebuild (back to one folder); each run is killed at a random moment of its course,
in one of five ways: SIGKILL or SIGTERM to the parent, Ctrl-C (SIGINT to the process group),
SIGKILL to a worker, SIGKILL to a worker and the parent. Each time: no process outlives the
parent by more than a few seconds, search counts exactly the before or the after articles, and
the next run succeeds and leaves nothing behind.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

from indexer import indexdir
from indexer.build import build_index

from test_safety import _alive, _count, _descendants, _ids, _pages, _start_index, _wait_for

KILLS = 24
MODES = ("parent SIGKILL", "parent SIGTERM", "Ctrl-C", "worker SIGKILL", "worker and parent SIGKILL")


def test_killed_at_random_moments_the_index_is_before_or_after(tmp_path):
    rng = random.Random(7)
    base = _pages(tmp_path / "base", 40, seed=11, prefix="base")
    extra = _pages(tmp_path / "extra", 40, seed=12, prefix="extra")
    index_dir = tmp_path / "index"
    build_index([base], index_dir, workers=2)
    only_base = _count(index_dir)
    runs = {False: (["--workers", "2", str(extra)], [extra], False, only_base + 120),
            True: (["--workers", "2", "--rebuild", str(base)], [base], True, only_base)}
    # How long a whole run takes, to kill at moments spread over it.
    started = time.monotonic()
    process = _start_index(*runs[False][0], index_dir=index_dir)
    assert process.wait(timeout=120) == 0, process.stderr.read()
    duration = time.monotonic() - started
    has_extra = True
    outcomes: Counter = Counter()
    for number in range(KILLS):
        args, paths, rebuild, after = runs[has_extra]
        before = _count(index_dir)
        mode = MODES[number % len(MODES)]
        started = time.monotonic()
        process = _start_index(*args, index_dir=index_dir)
        if mode.startswith("worker"):  # a moment of the run's course after the workers start
            _wait_for(lambda: _descendants(process.pid) or process.poll() is not None, 60, "workers")
        left = duration - (time.monotonic() - started)
        time.sleep(rng.uniform(0, max(left, 0)))  # the random moment of the kill, within the run
        workers = _descendants(process.pid)
        if mode == "parent SIGKILL" or mode == "worker and parent SIGKILL":
            if mode.startswith("worker") and workers:
                os.kill(min(workers), signal.SIGKILL)
            os.kill(process.pid, signal.SIGKILL)
        elif mode == "parent SIGTERM":
            os.kill(process.pid, signal.SIGTERM)
        elif mode == "Ctrl-C":
            os.killpg(process.pid, signal.SIGINT)
        elif workers:
            os.kill(min(workers), signal.SIGKILL)
        _, err = process.communicate(timeout=120)
        assert "Traceback" not in err, (mode, err)
        _wait_for(lambda: not _alive(workers), 5, f"the workers to exit after {mode}")
        count = _count(index_dir)
        assert count in (before, after), (number, mode, count, before, after)
        outcomes[f"{mode}: {'before' if count == before else 'after'}"] += 1
        # Search agrees with the count, and the next run finishes the work and cleans up.
        assert len(_ids(index_dir, '"base11x0000号"')) == 1
        report = build_index(paths, index_dir, rebuild=rebuild, workers=2)
        assert report.articles_total == after == _count(index_dir)
        assert not indexdir.leftovers(index_dir)
        assert not list(Path(tmp_path).glob(".index.building-*"))
        has_extra = not has_extra
    print(f"{KILLS} kills, 0 losses: {sorted(outcomes.items())}")
    assert sum(outcomes.values()) == KILLS
