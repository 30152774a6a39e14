"""Indexing benchmark: the shipped corpus and ../shared/corpora/cctv_xwlb (36k articles).

For each archive: a fresh build in a subprocess (chars/s, articles/s, peak memory of the whole
process tree sampled from /proc, index size), and, measured in the same run on the same text,
single-process jieba segmentation (the floor the indexer is compared with).

    python bench/index_bench.py [--limit N] [--keep]

Results: bench/results/index.json (the CCTV index is kept in bench/results/cctv-index for the
search and load benchmarks).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CCTV = ROOT.parent / "shared" / "corpora" / "cctv_xwlb" / "articles.jsonl.gz"


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def timed_build(paths: list[Path], index_dir: Path) -> dict:
    """Run ``newsearch index`` in a subprocess; wall time, report and peak tree memory."""
    shutil.rmtree(index_dir, ignore_errors=True)
    command = [sys.executable, "-m", "searchapp.cli", "index", *map(str, paths), "--rebuild",
               "--quiet", "--json", "--index-dir", str(index_dir)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"indexing failed: {err}")
    report = json.loads(out)
    size = sum(f.stat().st_size for f in index_dir.iterdir() if f.is_file())
    return {
        "seconds": round(seconds, 2),
        "articles": report["articles_added"],
        "chars": report["chars_indexed"],
        "chars_per_s": round(report["chars_indexed"] / seconds),
        "articles_per_s": round(report["articles_added"] / seconds, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "index_mib": round(size / 2**20, 1),
        "problems": len(report["problems"]),
    }


def jieba_floor(texts: list[str]) -> dict:
    """Single-process Python jieba (default mode, HMM; the reference the indexer's rjieba matches)
    over the same texts."""
    from indexer.analysis import reference_tokenizer
    from indexer.normalize import normalize

    tokenizer = reference_tokenizer()
    chars = sum(len(t) for t in texts)
    normalised = [normalize(t) for t in texts]
    started = time.perf_counter()
    for text in normalised:
        for _ in tokenizer.cut(text):
            pass
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "chars": chars, "chars_per_s": round(chars / seconds)}


def corpus_texts() -> list[str]:
    return [p.read_text("utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))]


def cctv_texts(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def limited_copy(path: Path, limit: int, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    out = target / "articles.jsonl"
    with gzip.open(path, "rt", encoding="utf-8") as source, open(out, "w", encoding="utf-8") as sink:
        for number, line in enumerate(source):
            if number >= limit:
                break
            sink.write(line)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N CCTV records")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = {"machine": {"cores": os.cpu_count()}, "archives": {}}

    print("corpus/ (5 pages) ...", flush=True)
    build = timed_build([ROOT / "corpus"], RESULTS / "corpus-index")
    floor = jieba_floor(corpus_texts())
    results["archives"]["corpus"] = {"build": build, "jieba": floor,
                                     "ratio_to_jieba": round(build["chars_per_s"] / floor["chars_per_s"], 3)}
    shutil.rmtree(RESULTS / "corpus-index", ignore_errors=True)

    if CCTV.exists():
        source = CCTV
        if args.limit:
            source = limited_copy(CCTV, args.limit, RESULTS / "cctv-sample")
        print(f"cctv_xwlb{' (first %d)' % args.limit if args.limit else ''} ...", flush=True)
        build = timed_build([source], RESULTS / "cctv-index")
        texts = cctv_texts(CCTV)[: args.limit] if args.limit else cctv_texts(CCTV)
        floor = jieba_floor(texts)
        results["archives"]["cctv_xwlb"] = {"build": build, "jieba": floor,
                                            "ratio_to_jieba": round(build["chars_per_s"] / floor["chars_per_s"], 3)}
    else:
        print(f"skipping the CCTV archive: {CCTV} not found", flush=True)

    (RESULTS / "index.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"{'archive':12} {'articles':>9} {'seconds':>8} {'chars/s':>9} {'art/s':>7} {'peak MiB':>9} "
          f"{'index MiB':>9} {'jieba c/s':>10} {'ratio':>6}")
    for name, row in results["archives"].items():
        b = row["build"]
        print(f"{name:12} {b['articles']:>9} {b['seconds']:>8} {b['chars_per_s']:>9} {b['articles_per_s']:>7} "
              f"{b['peak_rss_mib']:>9} {b['index_mib']:>9} {row['jieba']['chars_per_s']:>10} {row['ratio_to_jieba']:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
