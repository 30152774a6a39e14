"""Ranking speed: the shipped ranking (query likelihood) against the earlier one (BM25F), same
run, same process, same index, on the scale benchmark's query mix (``make bench-ranking``).

Each query is searched with both rankings back to back (which one goes first alternates), as a
full search (10 hits, snippets, facets), after a warm-up of both; p50/p95 per kind and overall,
and the ratio. The index: ``bench/results/scale-index-N`` (``--size N``, default 1000000, kept by
``make bench-scale`` with ``--keep``; else the archive of that size is indexed there first), its
queries drawn from ``bench/results/scale-archive-N`` as bench/scale_bench.py draws them.
Results: bench/results/ranking-N.json.

``--against REV`` instead times the mix (``scale_bench.time_queries``, sort=date included) with
this tree's code and with the code of git revision REV (checked out in a temporary worktree),
each in its own process, alternating, ``--rounds`` times each: the search as a whole before and
after a change, in the same run; the medians of the rounds' p50/p95 are reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import scale_bench  # noqa: E402
from bench.scale_bench import KINDS, RESULTS, summary  # noqa: E402

MODELS = ("likelihood", "bm25f")


TIME_MIX = """
import json, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from bench.scale_bench import time_queries
queries = [tuple(q) for q in json.loads(Path(sys.argv[3]).read_text())]
result = time_queries(Path(sys.argv[2]), queries)
result.pop("totals")
print(json.dumps(result))
"""


def against(rev: str, index_dir: Path, queries: list, rounds: int) -> dict:
    """The mix timed with this tree and with ``rev``'s, alternating processes."""
    with tempfile.TemporaryDirectory() as scratch:
        worktree = Path(scratch) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), rev],
                       check=True, capture_output=True)
        (Path(scratch) / "queries.json").write_text(json.dumps(queries, ensure_ascii=False))
        runs: dict[str, list[dict]] = {"this tree": [], rev: []}
        try:
            for number in range(rounds):
                for name, tree in (("this tree", ROOT), (rev, worktree))[:: 1 if number % 2 == 0 else -1]:
                    done = subprocess.run([sys.executable, "-c", TIME_MIX, str(tree), str(index_dir),
                                           str(Path(scratch) / "queries.json")],
                                          check=True, capture_output=True, text=True)
                    runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
                    print(f"  {name}: overall p50 {runs[name][-1]['overall']['p50_ms']} ms", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                           capture_output=True)
    report = {}
    kinds = [k for k in KINDS if k in runs["this tree"][0]["by_kind"]]
    print(f"\n{'kind':<10} {'this tree p50/p95 ms':>24} {rev + ' p50/p95 ms':>24} {'ratio':>14}")
    for kind in [*kinds, "overall"]:
        row = {}
        for name, found in runs.items():
            picked = [r["overall"] if kind == "overall" else r["by_kind"][kind] for r in found]
            row[name] = {"p50_ms": statistics.median(p["p50_ms"] for p in picked),
                         "p95_ms": statistics.median(p["p95_ms"] for p in picked)}
        new, old = row["this tree"], row[rev]
        report[kind] = row
        print(f"{kind:<10} {new['p50_ms']:>12.1f} / {new['p95_ms']:<9.1f} {old['p50_ms']:>12.1f} / {old['p95_ms']:<9.1f}"
              f" {new['p50_ms'] / old['p50_ms']:>6.2f} / {new['p95_ms'] / old['p95_ms']:.2f}")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries-per-kind", type=int, default=100)
    parser.add_argument("--against", metavar="REV", help="time the whole mix against git revision REV")
    parser.add_argument("--rounds", type=int, default=2, help="processes per tree with --against")
    args = parser.parse_args()

    from searchapp import ranking
    from searchapp.core import search
    from searchapp.highlight import HtmlFormatter
    from searchapp.request import query_from_args
    from searchapp.store import SearchIndex

    archive, manifest, _ = scale_bench.archive_for(args.size, scale_bench.scale_archive.DEFAULT_SEED, 1)
    index_dir = RESULTS / f"scale-index-{args.size}"
    if not index_dir.exists():
        print(f"indexing {archive} into {index_dir}", flush=True)
        scale_bench.timed_build(archive, index_dir, None)
    records, _ = scale_bench.sample_records(archive, manifest, 20 << 20)
    mix = scale_bench.make_queries(records, args.queries_per_kind)
    del records
    if args.against:
        report = against(args.against, index_dir, mix, args.rounds)
        (RESULTS / f"ranking-{args.size}-against.json").write_text(
            json.dumps({"size": args.size, "against": args.against, "rounds": args.rounds, "kinds": report}, indent=2))
        return 0
    queries = [(kind, params) for kind, params in mix if kind != "sort_date"]  # sort=date does not rank
    fmt = HtmlFormatter()
    index = SearchIndex(index_dir)
    started = time.perf_counter()
    search(index, query_from_args({"q": "的"}), fmt)
    print(f"{index_dir}: opened in {time.perf_counter() - started:.1f}s; {len(queries)} queries", flush=True)

    def timed(model: str, params: dict) -> float:
        ranking.PARAMS = ranking.Params(model=model)
        began = time.perf_counter()
        search(index, query_from_args(params), fmt)
        return (time.perf_counter() - began) * 1000

    for model in MODELS:  # warm-up: each ranking's first use of the searcher (field lengths)
        for _, params in queries[::25]:
            timed(model, params)
    times = {model: {kind: [] for kind in KINDS} for model in MODELS}
    for number, (kind, params) in enumerate(queries):
        for model in (MODELS if number % 2 == 0 else MODELS[::-1]):
            times[model][kind].append(timed(model, params))
    ranking.PARAMS = ranking.Params()
    index.close()

    report = {"size": args.size, "index_dir": str(index_dir), "queries": len(queries), "models": {}}
    print(f"\n{'kind':<10} " + "".join(f"{m + ' p50/p95 ms':>26}" for m in MODELS) + f"{'ratio p50/p95':>18}")
    kinds = [kind for kind in KINDS if times[MODELS[0]][kind]]
    for kind in [*kinds, "overall"]:
        rows = {}
        for model in MODELS:
            values = [t for k in kinds for t in times[model][k]] if kind == "overall" else times[model][kind]
            rows[model] = summary(values)
            report["models"].setdefault(model, {})[kind] = rows[model]
        new, old = rows[MODELS[0]], rows[MODELS[1]]
        print(f"{kind:<10} " + "".join(f"{r['p50_ms']:>14.1f} / {r['p95_ms']:<9.1f}" for r in rows.values())
              + f"{new['p50_ms'] / old['p50_ms']:>10.2f} / {new['p95_ms'] / old['p95_ms']:.2f}")
    (RESULTS / f"ranking-{args.size}.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
