"""Engine benchmark (issue 13): the scale benchmark's archive on the SphinxQL backend, one shard
and two, beside the embedded index, in the same run.

For each layout: the build by ``newsearch index`` (wall time, chars/s, peak RSS of the indexing
process tree and of the ``searchd`` processes), then the scale benchmark's query mix (seven
kinds, drawn from the archive's text with the same seed) through the search core in this
process: p50/p95 per kind and overall, and the ``searchd`` processes' RSS after the queries.
The engine runs on this machine (``indexer.engine_deploy``, free ports, a folder under
``bench/results``), so its shards share the same two cores: "two shards" shows the cost of the
distribution, not a second machine's help.

    make bench-engine                  # 100,000 articles
    python bench/engine_bench.py --size 20000 --queries-per-kind 30
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scale_archive  # noqa: E402
from scale_bench import (KINDS, RESULTS, ROOT, SAMPLE_SECONDS, archive_for, dir_bytes,  # noqa: E402
                         make_queries, newsearch_command, sample_records, time_queries, timed_build,
                         tree_rss_kib)

from indexer import engine_deploy  # noqa: E402


def searchd_rss_mib(layout) -> float:
    """RSS of the layout's searchd processes (daemons and their watchdogs), MiB."""
    total = 0
    for node in layout.nodes:
        pid = engine_deploy.running_pid(node)
        if pid:
            total += tree_rss_kib(pid)
    return round(total / 1024, 1)


def free_base_port() -> int:
    for base in range(21000, 32000, 20):
        if all(engine_deploy.port_free("127.0.0.1", base + k) for k in range(12)):
            return base
    raise SystemExit("no free ports for the engine")


def engine_build(archive: Path, url: str, layout) -> dict:
    """``newsearch index ARCHIVE --backend URL --rebuild``, sampled every 0.2 s."""
    command = [*newsearch_command(), "index", str(archive), "--rebuild", "--quiet", "--json", "--backend", url]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_rss = peak_engine = 0.0
    done = threading.Event()

    def sample():
        nonlocal peak_rss, peak_engine
        while not done.is_set():
            peak_rss = max(peak_rss, tree_rss_kib(process.pid) / 1024)
            peak_engine = max(peak_engine, searchd_rss_mib(layout))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"engine indexing failed ({process.returncode}): {err[-2000:]}")
    report = json.loads(out)
    chars = report["chars_indexed"]
    return {"seconds": round(seconds, 1), "articles": report["articles_added"], "chars": chars,
            "chars_per_s": round(chars / seconds), "peak_rss_mib": round(peak_rss, 1),
            "searchd_peak_rss_mib": round(peak_engine, 1),
            "engine_data_bytes": dir_bytes(layout.folder), "problems": len(report["problems"])}


def run_layout(name: str, archive: Path, queries, shards: int | None, folder: Path) -> dict:
    print(f"== {name}", flush=True)
    if shards is None:
        index_dir = folder / "embedded-index"
        build = timed_build(archive, index_dir, None)
        print(f"  built in {build['seconds']} s, {build['chars_per_s']:,} chars/s, peak RSS {build['peak_rss_mib']} MiB",
              flush=True)
        searched = time_queries(index_dir, queries)
        shutil.rmtree(index_dir, ignore_errors=True)
        result = {"build": build, "search": searched}
    else:
        layout = engine_deploy.Layout(folder / f"engine-{shards}", shards=shards, port=free_base_port())
        shutil.rmtree(layout.folder, ignore_errors=True)
        url = engine_deploy.up(layout)
        try:
            build = engine_build(archive, url, layout)
            print(f"  built in {build['seconds']} s, {build['chars_per_s']:,} chars/s, peak RSS {build['peak_rss_mib']} MiB "
                  f"(+ searchd {build['searchd_peak_rss_mib']} MiB)", flush=True)
            searched = time_queries(folder, queries, backend=url)
            searched["searchd_rss_mib"] = searchd_rss_mib(layout)
        finally:
            engine_deploy.down(layout)
            shutil.rmtree(layout.folder, ignore_errors=True)
        result = {"build": build, "search": searched, "shards": shards}
    print(f"  p50 {searched['overall']['p50_ms']} ms, p95 {searched['overall']['p95_ms']} ms", flush=True)
    return result


def table(results: dict) -> str:
    names = list(results["layouts"])
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label, get):
        lines.append(f"| {label} | " + " | ".join(get(results["layouts"][n]) for n in names) + " |")

    row("build (s)", lambda r: f"{r['build']['seconds']}")
    row("chars/s", lambda r: f"{r['build']['chars_per_s']:,}")
    row("indexer peak RSS (MiB)", lambda r: f"{r['build']['peak_rss_mib']}")
    row("searchd RSS after queries (MiB)", lambda r: f"{r['search'].get('searchd_rss_mib', '—')}")
    row("queries with another total than embedded", lambda r: f"{r['totals_differ_from_embedded']} of {results['queries']}")
    row("search p50 / p95 (ms)", lambda r: f"{r['search']['overall']['p50_ms']} / {r['search']['overall']['p95_ms']}")
    for kind in KINDS:
        row(f"  {kind} p50 / p95", lambda r, k=kind: (f"{r['search']['by_kind'][k]['p50_ms']} / "
                                                      f"{r['search']['by_kind'][k]['p95_ms']}")
            if k in r["search"]["by_kind"] else "—")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="articles (the scale benchmark's archive)")
    parser.add_argument("--queries-per-kind", type=int, default=100)
    parser.add_argument("--seed", type=int, default=scale_archive.DEFAULT_SEED)
    args = parser.parse_args(argv)
    if not shutil.which("searchd"):
        raise SystemExit("searchd is missing: bash .ci/ensure-sphinx (Debian's sphinxsearch)")
    archive, manifest, _ = archive_for(args.size, args.seed, 1)
    records, _ = sample_records(archive, manifest, 20_000_000)
    queries = make_queries(records, args.queries_per_kind)
    folder = RESULTS / f"engine-{args.size}"
    folder.mkdir(parents=True, exist_ok=True)
    results = {"size": args.size, "text_chars": manifest["text_chars"], "queries": len(queries),
               "layouts": {}}
    for name, shards in (("embedded", None), ("sphinx, 1 shard", 1), ("sphinx, 2 shards", 2)):
        results["layouts"][name] = run_layout(name, archive, queries, shards, folder)
    reference = results["layouts"]["embedded"]["search"]["totals"]
    for name, layout in results["layouts"].items():
        differ = [i for i, (a, b) in enumerate(zip(reference, layout["search"]["totals"])) if a != b]
        layout["totals_differ_from_embedded"] = len(differ)
        if differ:
            print(f"  {name}: {len(differ)} of {len(reference)} queries found another total than the embedded "
                  f"index, e.g. {queries[differ[0]]}", flush=True)
    out = RESULTS / f"engine-{args.size}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(table(results))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
