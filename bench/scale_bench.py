"""Scale benchmark (issue 9): archives of 100k, 300k and 1M generated articles, built and searched.

For each size in ``--sizes``:

1. the archive, made by ``bench/scale_archive.py`` into ``bench/results/scale-archive-N/`` and
   reused while its manifest has the generator's version and seed (the make time is reported
   when it was made in this run);
2. a first build with ``newsearch index ARCHIVE --index-dir bench/results/scale-index-N`` in a
   subprocess, as a user runs it: wall time, chars/s, peak RSS of the whole process tree (the
   indexer and all its descendants, summed, sampled from /proc every 0.2 s), peak disk during the
   build (the index folder, its sibling ``.NAME.building-*`` / ``.NAME.old-*`` folders and any
   ``*.tmp`` beside it, Whoosh's ``*.tmp`` folders inside, and the run's ``TMPDIR``, sampled every
   0.2 s: a peak shorter than that can be missed) next to the final index size, and index bytes
   per character of text;
3. single-process Python jieba 0.42.1 (``jieba.Tokenizer().tokenize``, default dictionary, HMM)
   on a deterministic sample of the same archive (every k-th record, at least ``--jieba-mb`` MB of
   UTF-8 text, or all of it when the archive is smaller), in the same run;
4. a query mix drawn from the archive's text (seeded; ``--queries-per-kind`` of each kind: one
   character, common 2-character words, 3–4-character words, 2–3-term ANDs, quoted 5–8
   characters, a common word filtered by year / city / topic, a common word sorted by date) run
   through the search core in this process after a warm-up (the first search, which opens the
   index and builds the facet table, is timed on its own, jieba's dictionary loaded before it):
   p50/p95 per kind and overall, and how much this process grew;
5. ``newsearch serve`` (gunicorn, its default workers and threads) on a free loopback port: 1,000
   queries of the mix to ``/api/search`` from 4 client threads, then the RSS (and PSS) of each
   gunicorn worker from /proc;
6. load: ``newsearch serve`` again (fresh workers) and ``bench/load_bench.py``'s level runner
   (``run_level``: keep-alive client threads, each request a random path, for ``--load-seconds``)
   with ``--load-clients`` clients (8) after its 5 s warm-up with 4, on the paths of the query mix
   split as load_bench splits its own (every third to the HTML page ``/``, the others to
   ``/api/search``): requests/s, p50/p95/p99 and errors (target at 1M: ≥ 150 req/s, no error);
7. an incremental update while serving: ``--add-articles`` (1,000) new articles, made by the
   generator with another seed (``--seed`` + 1) and ids ``add-NNNNNNN`` into
   ``bench/results/scale-additions-N/`` (cached like the archive), added by ``newsearch index
   ADDITIONS --index-dir INDEX`` in a subprocess while ``newsearch serve`` runs on the index and a
   client thread keeps sending queries of the mix to ``/api/search``: the update's wall time and
   its ratio to the full build's (target ≤ 1/100), the queries served during the update and their
   statuses (target: all 200), then how long until the server shows the new articles, and the
   server's total for the whole archive (``/api/search?year_from=1000&year_to=9999``: the API
   wants a query or a filter, and every generated article has a date) before and after, which
   must grow by exactly the number added. It runs last: the steps before see the index as built.

Results: ``bench/results/scale-N.json`` per size, and a table comparing the sizes of the run (with
``--table``: of every saved result). The index is deleted after its size is measured unless
``--keep`` (at 1M it is several GB); the archive stays (it is the cache).

    python bench/scale_bench.py [--sizes 100000,300000,1000000] [--queries-per-kind 100]
                                [--serve-queries 1000] [--load-clients 8] [--load-seconds 20]
                                [--add-articles 1000] [--keep] [--table]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

from bench import scale_archive  # noqa: E402

SAMPLE_SECONDS = 0.2
HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
KINDS = ("char", "word2", "word34", "and", "quoted", "filtered", "sort_date")
KIND_LABELS = {"char": "1 character", "word2": "common 2-char word", "word34": "3–4-char word",
               "and": "2–3-term AND", "quoted": "quoted 5–8 chars", "filtered": "word + year/city/topic",
               "sort_date": "word, sort=date"}
COMMON_WORDS = 300
ADD_PREFIX = "add"  # ids of the articles of the incremental update
UPDATE_RATIO_TARGET = 0.01  # the update's wall time over the full build's, at most
LOAD_TARGET_RPS = 150  # with --load-clients 8, at 1M articles
WHOLE_ARCHIVE = {"year_from": "1000", "year_to": "9999", "per_page": "1"}  # every generated article has a date
VISIBLE_WITHIN_S = 120  # how long to wait for the server to show the added articles


# -- /proc ------------------------------------------------------------------------------------------

def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _pss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return None


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                found.extend(int(c) for c in listed.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children(current))
    return found


def tree_rss_kib(pid: int) -> int:
    return sum(_status_kib(p, "VmRSS") for p in tree(pid))


# -- disk -----------------------------------------------------------------------------------------

def dir_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (files may vanish while it looks)."""
    total = 0
    try:
        entries = list(os.scandir(path))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        try:
            return os.stat(path).st_size
        except OSError:
            return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                total += dir_bytes(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


def build_disk_bytes(index_dir: Path, tmp_dir: Path) -> int:
    """What a build has on disk: the index folder (with Whoosh's ``*.tmp`` folders inside), the
    folders and files it keeps beside it while it works, and its ``TMPDIR``."""
    total = dir_bytes(index_dir) + dir_bytes(tmp_dir)
    parent = index_dir.parent
    for pattern in (f".{index_dir.name}.building-*", f".{index_dir.name}.old-*", f"{index_dir.name}*.tmp",
                    f".{index_dir.name}*.tmp"):
        for path in parent.glob(pattern):
            total += dir_bytes(path)
    return total


# -- the archive ------------------------------------------------------------------------------------

def archive_for(size: int, seed: int, jobs: int) -> tuple[Path, dict, bool]:
    """The cached archive of ``size`` articles (made when missing or made by another generator
    version or seed); whether it was made now."""
    folder = RESULTS / f"scale-archive-{size}"
    manifest = scale_archive.read_manifest(folder)
    if (manifest and manifest.get("generator_version") == scale_archive.VERSION
            and manifest.get("seed") == seed and manifest.get("articles") == size):
        return folder, manifest, False
    print(f"  generating {size:,} articles into {folder} ...", flush=True)
    manifest = scale_archive.generate(folder, size, seed=seed, jobs=jobs, quiet=False)
    return folder, manifest, True


def additions_for(count: int, seed: int) -> tuple[Path, dict, bool]:
    """``count`` new articles for the incremental update (ids ``add-NNNNNNN``, the generator's
    ``seed``), cached like the archives; whether they were made now."""
    folder = RESULTS / f"scale-additions-{count}"
    manifest = scale_archive.read_manifest(folder)
    if (manifest and manifest.get("generator_version") == scale_archive.VERSION and manifest.get("seed") == seed
            and manifest.get("articles") == count and manifest.get("id_prefix") == ADD_PREFIX):
        return folder, manifest, False
    print(f"  generating {count:,} articles to add into {folder} ...", flush=True)
    manifest = scale_archive.generate(folder, count, seed=seed, prefix=ADD_PREFIX)
    return folder, manifest, True


def sample_records(folder: Path, manifest: dict, sample_bytes: int) -> tuple[list[dict], int]:
    """Every k-th record of the archive (k from its size), about ``sample_bytes`` of UTF-8 text,
    at least; the stride."""
    estimated = manifest["text_chars"] * 3  # UTF-8 bytes of Chinese text
    stride = max(1, estimated // sample_bytes)
    picked, number = [], 0
    for path in sorted(folder.glob("part-*.jsonl")):
        with open(path, "rb") as handle:
            for line in handle:
                if number % stride == 0:
                    picked.append(json.loads(line))
                number += 1
    return picked, stride


# -- the build ------------------------------------------------------------------------------------

def newsearch_command() -> list[str]:
    script = Path(sys.executable).with_name("newsearch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "searchapp.cli"]


def timed_build(archive: Path, index_dir: Path, workers: int | None) -> dict:
    """A first build by ``newsearch index`` (subprocess), sampled every 0.2 s."""
    for leftover in [index_dir, *index_dir.parent.glob(f".{index_dir.name}.building-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
    tmp_dir = index_dir.with_name(index_dir.name + "-tmpdir")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    command = [*newsearch_command(), "index", str(archive), "--quiet", "--json", "--index-dir", str(index_dir)]
    if workers:
        command += ["--workers", str(workers)]
    stderr_path = index_dir.with_name(index_dir.name + "-build.stderr")
    started = time.perf_counter()
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   env={**os.environ, "TMPDIR": str(tmp_dir)})
        peak_rss = peak_disk = samples = 0
        done = threading.Event()

        def sample():
            nonlocal peak_rss, peak_disk, samples
            while not done.is_set():
                peak_rss = max(peak_rss, tree_rss_kib(process.pid))
                peak_disk = max(peak_disk, build_disk_bytes(index_dir, tmp_dir))
                samples += 1
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            out, _ = process.communicate()
        except BaseException:
            process.terminate()
            process.wait(timeout=60)
            raise
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"indexing failed ({process.returncode}); see {stderr_path}")
    if stderr_path.stat().st_size == 0:
        stderr_path.unlink()
    report = json.loads(out)
    final = dir_bytes(index_dir)
    peak_disk = max(peak_disk, final)
    shutil.rmtree(tmp_dir, ignore_errors=True)
    chars = report["chars_indexed"]
    return {
        "command": " ".join(["newsearch", *command[len(newsearch_command()):]]),
        "seconds": round(seconds, 1),
        "articles": report["articles_added"],
        "chars": chars,
        "chars_per_s": round(chars / seconds),
        "articles_per_s": round(report["articles_added"] / seconds, 1),
        "peak_rss_mib": round(peak_rss / 1024, 1),
        "peak_disk_bytes": peak_disk,
        "final_index_bytes": final,
        "peak_extra_disk_bytes": peak_disk - final,
        "index_bytes_per_char": round(final / chars, 2),
        "problems": len(report["problems"]),
        "samples": samples,
    }


# -- jieba alone ------------------------------------------------------------------------------------

def jieba_floor(records: list[dict], stride: int, whole: bool) -> dict:
    """Single-process Python jieba over the sample's normalised texts (normalising not timed)."""
    import logging
    import warnings

    from indexer.normalize import normalize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    texts = [normalize(r["text"]) for r in records]
    chars = sum(len(t) for t in texts)
    size = sum(len(t.encode("utf-8")) for t in texts)
    started = time.perf_counter()
    for text in texts:
        for _ in tokenizer.tokenize(text):
            pass
    seconds = time.perf_counter() - started
    return {"sample": f"every {stride}th record" if stride > 1 else "every record",
            "whole_archive": whole, "records": len(records), "chars": chars,
            "sample_mb": round(size / 1e6, 1), "seconds": round(seconds, 2),
            "chars_per_s": round(chars / seconds), "jieba": getattr(jieba, "__version__", "?")}


# -- queries ----------------------------------------------------------------------------------------

def topic_names() -> list[str]:
    data = tomllib.loads((ROOT / "indexer" / "data" / "topics.toml").read_text("utf-8"))
    return [topic["name"] for topic in data["topic"]]


def make_queries(records: list[dict], per_kind: int, seed: int = 91) -> list[tuple[str, dict]]:
    """(kind, parameters) drawn from the sampled records' text, ``per_kind`` of each kind."""
    import logging

    import jieba

    from indexer.normalize import normalize

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    rng = random.Random(seed)
    pool = records[:: max(1, len(records) // max(2000, per_kind * 4))]  # spread over the archive
    texts = [normalize(r["text"]) for r in pool]
    words_by_text = [[w for w in tokenizer.cut(t) if HAN_RUN.fullmatch(w)] for t in texts[:2000]]
    counts = Counter(w for words in words_by_text for w in words if len(w) == 2)
    common = [w for w, _ in counts.most_common(COMMON_WORDS)]
    years = sorted({int(r["date"][:4]) for r in records if r.get("date")})
    cities = [c.short for c in scale_archive.read_gazetteer()[0]]
    topics = topic_names()

    def han_runs(at_least: int) -> list[str]:
        while True:
            runs = [r for r in HAN_RUN.findall(rng.choice(texts)) if len(r) >= at_least]
            if runs:
                return runs

    queries: list[tuple[str, dict]] = []
    for _ in range(per_kind):
        queries.append(("char", {"q": rng.choice(rng.choice(han_runs(1)))}))
        queries.append(("word2", {"q": rng.choice(common)}))
        long_words = []
        while not long_words:
            long_words = [w for w in rng.choice(words_by_text) if 3 <= len(w) <= 4]
        queries.append(("word34", {"q": rng.choice(long_words)}))
        terms = []
        while len(terms) < 2:
            terms = sorted({w for w in rng.choice(words_by_text) if len(w) >= 2})
        queries.append(("and", {"q": " ".join(rng.sample(terms, min(len(terms), rng.choice((2, 3)))))}))
        run = rng.choice(han_runs(5))
        length = rng.randint(5, min(8, len(run)))
        start = rng.randrange(len(run) - length + 1)
        queries.append(("quoted", {"q": f'"{run[start:start + length]}"'}))
        filtered = {"q": rng.choice(common)}
        roll = rng.randrange(4)
        if roll == 0:
            year = rng.choice(years)
            filtered["year"] = str(year) if rng.random() < 0.5 else f"{year}..{year + rng.randrange(2, 11)}"
        elif roll == 1:
            filtered["city"] = rng.choice(cities)
        elif roll == 2:
            filtered["topic"] = rng.choice(topics)
        else:
            filtered["year"] = f"{rng.choice(years)}..2026"
            filtered["city"] = rng.choice(cities)
        queries.append(("filtered", filtered))
        queries.append(("sort_date", {"q": rng.choice(common), "sort": "date"}))
    return queries


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(times: list[float]) -> dict:
    return {"count": len(times), "p50_ms": round(percentile(times, 0.5), 2),
            "p95_ms": round(percentile(times, 0.95), 2), "mean_ms": round(statistics.fmean(times), 2),
            "max_ms": round(max(times), 2)}


def time_queries(index_dir: Path, queries: list[tuple[str, dict]], backend: str | None = None) -> dict:
    """The mix through the search core in this process, after a warm-up (on the embedded index
    in ``index_dir``, or on the engine at ``backend``)."""
    from searchapp.backends import open_backend
    from searchapp.core import search
    from searchapp.highlight import HtmlFormatter
    from searchapp.request import query_from_args

    from indexer.analysis import segmenter

    segmenter()  # jieba's dictionary: loaded once per process, not part of any size's first search
    fmt = HtmlFormatter()
    rss_before = _status_kib(os.getpid(), "VmRSS")
    started = time.perf_counter()
    index = open_backend(index_dir, backend)
    search(index, query_from_args({"q": "的"}), fmt)  # opens the index, builds the facet table
    first = time.perf_counter() - started
    warm = [q for n, q in enumerate(queries) if n % 10 == 0][:40]
    for _, params in warm:
        search(index, query_from_args(params), fmt)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    totals: dict[str, list[int]] = {kind: [] for kind in KINDS}
    every_total = []
    for kind, params in queries:
        query = query_from_args(params)
        began = time.perf_counter()
        result = search(index, query, fmt)
        times[kind].append((time.perf_counter() - began) * 1000)
        totals[kind].append(result.total)
        every_total.append(result.total)
    every = [t for kind in KINDS for t in times[kind]]
    rss_after = _status_kib(os.getpid(), "VmRSS")
    index.close()
    return {
        "first_search_s": round(first, 2),
        "warm_up_queries": len(warm),
        "overall": summary(every),
        "by_kind": {kind: {**summary(times[kind]), "median_total": int(statistics.median(totals[kind]))}
                    for kind in KINDS if times[kind]},
        "search_process_rss_growth_mib": round((rss_after - rss_before) / 1024, 1),
        "totals": every_total,  # per query, in order (backends compared in bench/engine_bench.py)
    }


# -- serving ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, limit: float = 900) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return time.monotonic() - started
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def worker_memory(master: int) -> list[dict]:
    return [{"pid": pid, "rss_mib": round(_status_kib(pid, "VmRSS") / 1024, 1),
             "pss_mib": None if (pss := _pss_kib(pid)) is None else round(pss / 1024, 1)}
            for pid in children(master)]


def serve_memory(index_dir: Path, queries: list[tuple[str, dict]], count: int, clients: int = 4) -> dict:
    """``newsearch serve`` on a free port; ``count`` queries to /api/search; worker memory."""
    port = free_port()
    command = [*newsearch_command(), "serve", "--port", str(port), "--index-dir", str(index_dir)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    paths = ["/api/search?" + urlencode(params) for _, params in queries]
    rng = random.Random(5)
    order = [paths[rng.randrange(len(paths))] for _ in range(count)]
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    try:
        started_in = wait_for(port, server)
        at_start = worker_memory(server.pid)

        def client(share: list[str]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            mine, seen = [], Counter()
            for path in share:
                began = time.perf_counter()
                try:
                    connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
                    response = connection.getresponse()
                    response.read()
                    seen[str(response.status)] += 1
                except (OSError, http.client.HTTPException) as error:
                    seen[type(error).__name__] += 1
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                    continue
                mine.append((time.perf_counter() - began) * 1000)
            connection.close()
            with lock:
                latencies.extend(mine)
                statuses.update(seen)

        began = time.perf_counter()
        threads = [threading.Thread(target=client, args=(order[n::clients],)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        after = worker_memory(server.pid)
        master = {"rss_mib": round(_status_kib(server.pid, "VmRSS") / 1024, 1),
                  "pss_mib": None if (pss := _pss_kib(server.pid)) is None else round(pss / 1024, 1)}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return {
        "queries": count, "clients": clients, "statuses": dict(statuses),
        "start_s": round(started_in, 1), "seconds": round(elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "workers_at_start": at_start, "workers_after": after, "master": master,
        "max_worker_rss_mib": max((w["rss_mib"] for w in after), default=None),
        "max_worker_pss_mib": max((w["pss_mib"] or 0 for w in after), default=None),
    }


def start_server(index_dir: Path, log: Path) -> tuple[subprocess.Popen, int, float]:
    """``newsearch serve`` (its defaults) on a free loopback port, its stderr to ``log``; the
    process, the port and how long it took to accept connections."""
    port = free_port()
    command = [*newsearch_command(), "serve", "--port", str(port), "--index-dir", str(index_dir)]
    with open(log, "w") as stderr:
        server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        return server, port, wait_for(port, server)
    except BaseException:
        stop_server(server)
        raise


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def server_log(log: Path) -> dict:
    """The tracebacks a server logged (its log is kept when there are any, deleted otherwise)."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return {"tracebacks": None}
    tracebacks = text.count("Traceback (most recent call last)")
    if not tracebacks:
        log.unlink()
        return {"tracebacks": 0}
    last = [line for line in text.splitlines() if line and not line.startswith((" ", "Traceback"))][-1]
    return {"tracebacks": tracebacks, "log": str(log.relative_to(ROOT)), "last_error": last[:300]}


def get_json(port: int, path: str) -> tuple[int, dict | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, None
    finally:
        connection.close()


def served_total(port: int) -> int | None:
    """The server's total for the whole archive (every article has a year)."""
    status, body = get_json(port, "/api/search?" + urlencode(WHOLE_ARCHIVE))
    return body.get("total") if status == 200 and body else None


def load_paths(queries: list[tuple[str, dict]]) -> list[str]:
    """The mix as load_bench splits its own queries: every third to the HTML page."""
    return [("/api/search" if number % 3 else "/") + "?" + urlencode(params)
            for number, (_, params) in enumerate(queries)]


def load_step(index_dir: Path, queries: list[tuple[str, dict]], clients: int, seconds: float) -> dict:
    """``bench/load_bench.py``'s level runner against ``newsearch serve`` on the index."""
    from bench.load_bench import run_level

    log = index_dir.with_name(index_dir.name + "-load-server.stderr")
    server, port, started_in = start_server(index_dir, log)
    try:
        paths = load_paths(queries)
        warm = run_level(port, paths, 4, 5)  # load_bench's warm-up
        level = run_level(port, paths, clients, seconds)
        workers = worker_memory(server.pid)
    finally:
        stop_server(server)
    return {**level, "server": server_log(log), "seconds": seconds, "start_s": round(started_in, 1), "warm_up_requests": warm["requests"],
            "paths": len(paths), "html_share": "1/3", "max_worker_rss_mib": max((w["rss_mib"] for w in workers),
                                                                               default=None),
            "target_rps": LOAD_TARGET_RPS,
            "meets_target": level["requests_per_s"] >= LOAD_TARGET_RPS and level["errors"] == 0}


def update_step(index_dir: Path, additions: Path, added_expected: int, queries: list[tuple[str, dict]],
                build_seconds: float, size: int) -> dict:
    """``newsearch index ADDITIONS --index-dir INDEX`` while the server answers a client thread."""
    log = index_dir.with_name(index_dir.name + "-update-server.stderr")
    server, port, started_in = start_server(index_dir, log)
    paths = ["/api/search?" + urlencode(params) for _, params in queries]
    phase = ["before"]
    statuses: dict[str, Counter] = {name: Counter() for name in ("before", "update", "after")}
    latencies: dict[str, list[float]] = {name: [] for name in statuses}
    stop = threading.Event()

    def client() -> None:
        rng = random.Random(17)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while not stop.is_set():
            now = phase[0]
            began = time.perf_counter()
            try:
                connection.request("GET", rng.choice(paths), headers={"Accept-Encoding": "gzip"})
                response = connection.getresponse()
                response.read()
                statuses[now][str(response.status)] += 1
            except (OSError, http.client.HTTPException) as error:
                statuses[now][type(error).__name__] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                continue
            latencies[now].append((time.perf_counter() - began) * 1000)
        connection.close()

    stderr_path = index_dir.with_name(index_dir.name + "-update.stderr")
    command = [*newsearch_command(), "index", str(additions), "--quiet", "--json", "--index-dir", str(index_dir)]
    visible_after = None
    try:
        before = served_total(port)
        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        time.sleep(1)  # the client is under way before the update starts
        phase[0] = "update"
        started = time.perf_counter()
        with open(stderr_path, "w") as stderr:
            process = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
        seconds = time.perf_counter() - started
        phase[0] = "after"
        if process.returncode not in (0, 1):
            raise SystemExit(f"the update failed ({process.returncode}); see {stderr_path}")
        report = json.loads(process.stdout)
        after = None
        while time.perf_counter() - started - seconds < VISIBLE_WITHIN_S:
            after = served_total(port)
            if before is not None and after == before + added_expected:
                visible_after = time.perf_counter() - started - seconds
                break
            time.sleep(0.2)
        time.sleep(1)  # a second more of queries on the new generation
        stop.set()
        thread.join()
        first_added = f"{ADD_PREFIX}-{0:07d}"
        article_status, _ = get_json(port, f"/api/articles/{first_added}")
    finally:
        stop.set()
        stop_server(server)
    if stderr_path.exists() and stderr_path.stat().st_size == 0:
        stderr_path.unlink()
    during = statuses["update"]
    ok = during.get("200", 0)
    return {
        "command": " ".join(["newsearch", *command[len(newsearch_command()):]]),
        "articles_given": added_expected, "articles_added": report["articles_added"],
        "problems": len(report["problems"]),
        "seconds": round(seconds, 2), "build_seconds": build_seconds,
        "ratio_to_build": round(seconds / build_seconds, 4), "ratio_target": UPDATE_RATIO_TARGET,
        "server_start_s": round(started_in, 1),
        "queries_during": sum(during.values()), "statuses_during": dict(during),
        "p50_ms_during": round(percentile(latencies["update"], 0.5), 1) if latencies["update"] else None,
        "p95_ms_during": round(percentile(latencies["update"], 0.95), 1) if latencies["update"] else None,
        "queries_before": sum(statuses["before"].values()), "statuses_before": dict(statuses["before"]),
        "queries_after": sum(statuses["after"].values()), "statuses_after": dict(statuses["after"]),
        "visible_after_s": None if visible_after is None else round(visible_after, 2),
        "total_before": before, "total_after": after, "archive_size": size,
        "grew_by": None if before is None or after is None else after - before,
        "added_article_status": article_status, "server": server_log(log),
        "meets_targets": {
            "ratio": seconds / build_seconds <= UPDATE_RATIO_TARGET,
            "all_200": sum(during.values()) > 0 and ok == sum(during.values())
                       and all(k == "200" for k in statuses["after"]),
            "total_grew_exactly": before == size and after == before + added_expected,
        },
    }


# -- the run ----------------------------------------------------------------------------------------

def run_size(size: int, args) -> dict:
    print(f"== {size:,} articles", flush=True)
    archive, manifest, made = archive_for(size, args.seed, args.jobs)
    generated = {key: manifest.get(key) for key in ("generator_version", "seed", "articles", "files", "chars",
                                                  "text_chars", "traditional", "local", "seconds",
                                                  "articles_per_s", "chars_per_s")}
    generated["made_in_this_run"] = made
    print(f"  archive {archive} ({manifest['text_chars']:,} chars of text; {'made' if made else 'cached'}, "
          f"generator {manifest['seconds']} s)", flush=True)
    index_dir = RESULTS / f"scale-index-{size}"
    print("  indexing ...", flush=True)
    build = timed_build(archive, index_dir, args.workers)
    print(f"  built in {build['seconds']} s, {build['chars_per_s']:,} chars/s, peak RSS {build['peak_rss_mib']} MiB, "
          f"peak disk {build['peak_disk_bytes'] / 2**20:.0f} MiB, index {build['final_index_bytes'] / 2**20:.0f} MiB",
          flush=True)
    records, stride = sample_records(archive, manifest, int(args.jieba_mb * 1e6))
    floor = jieba_floor(records, stride, whole=stride == 1)
    print(f"  jieba alone: {floor['chars_per_s']:,} chars/s on a sample ({floor['sample']}, "
          f"{floor['sample_mb']} MB{', the whole archive' if floor['whole_archive'] else ''})", flush=True)
    queries = make_queries(records, args.queries_per_kind)
    print(f"  {len(queries)} queries in process ...", flush=True)
    searched = time_queries(index_dir, queries)
    print(f"  p50 {searched['overall']['p50_ms']} ms, p95 {searched['overall']['p95_ms']} ms "
          f"(first search {searched['first_search_s']} s)", flush=True)
    served = None
    if args.serve_queries:
        print(f"  serving, {args.serve_queries} queries ...", flush=True)
        served = serve_memory(index_dir, queries, args.serve_queries)
        print(f"  worker RSS after {args.serve_queries} queries: "
              f"{[w['rss_mib'] for w in served['workers_after']]} MiB (PSS "
              f"{[w['pss_mib'] for w in served['workers_after']]}), statuses {served['statuses']}", flush=True)
    load = None
    if args.load_seconds > 0:
        print(f"  load, {args.load_clients} clients for {args.load_seconds:g} s ...", flush=True)
        load = load_step(index_dir, queries, args.load_clients, args.load_seconds)
        print(f"  {load['requests_per_s']} req/s, p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, "
              f"errors {load['errors']} {load['error_kinds'] or ''}"
              + (f"; the server logged {load['server']['tracebacks']} tracebacks ({load['server']['last_error']}), "
                 f"see {load['server']['log']}" if load["server"].get("tracebacks") else ""), flush=True)
    update = None
    if args.add_articles > 0:
        additions, added_manifest, _ = additions_for(args.add_articles, args.seed + 1)
        print(f"  incremental update: {args.add_articles:,} articles while serving ...", flush=True)
        update = update_step(index_dir, additions, added_manifest["articles"], queries, build["seconds"], size)
        update["additions"] = {key: added_manifest.get(key) for key in ("seed", "id_prefix", "articles", "chars")}
        print(f"  update {update['seconds']} s ({update['ratio_to_build']:.4f} of the build), "
              f"{update['queries_during']} queries during it {update['statuses_during']}, "
              f"total {update['total_before']} -> {update['total_after']} "
              f"(visible {update['visible_after_s']} s after)", flush=True)
    result = {
        "size": size, "machine": {"cores": os.cpu_count()},
        "archive": generated, "build": build, "jieba": floor,
        "build_to_jieba": round(build["chars_per_s"] / floor["chars_per_s"], 3),
        "queries": searched, "serve": served, "load": load, "update": update,
    }
    (RESULTS / f"scale-{size}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    if not args.keep:
        shutil.rmtree(index_dir, ignore_errors=True)
    return result


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f}"


def print_table(results: list[dict]) -> None:
    results = sorted(results, key=lambda r: r["size"])
    columns = [
        ("articles", lambda r: f"{r['size']:,}"),
        ("M chars of text", lambda r: f"{r['build']['chars'] / 1e6:,.1f}"),
        ("gen s", lambda r: f"{r['archive']['seconds']}" + ("" if r["archive"]["made_in_this_run"] else "*")),
        ("build s", lambda r: f"{r['build']['seconds']:,.0f}"),
        ("chars/s", lambda r: f"{r['build']['chars_per_s']:,}"),
        ("jieba c/s†", lambda r: f"{r['jieba']['chars_per_s']:,}"),
        ("×jieba", lambda r: f"{r['build_to_jieba']}"),
        ("peak RSS MiB", lambda r: f"{r['build']['peak_rss_mib']:,.0f}"),
        ("peak disk MiB", lambda r: mib(r["build"]["peak_disk_bytes"])),
        ("index MiB", lambda r: mib(r["build"]["final_index_bytes"])),
        ("B/char", lambda r: f"{r['build']['index_bytes_per_char']}"),
        ("p50 ms", lambda r: f"{r['queries']['overall']['p50_ms']}"),
        ("p95 ms", lambda r: f"{r['queries']['overall']['p95_ms']}"),
        ("1st search s", lambda r: f"{r['queries']['first_search_s']}"),
        ("worker RSS MiB", lambda r: f"{r['serve']['max_worker_rss_mib']}" if r.get("serve") else "-"),
        ("worker PSS MiB", lambda r: f"{r['serve']['max_worker_pss_mib']}" if r.get("serve") else "-"),
    ]
    rows = [[name for name, _ in columns]] + [[cell(r) for _, cell in columns] for r in results]
    widths = [max(len(row[n]) for row in rows) for n in range(len(columns))]
    for row in rows:
        print("  ".join(value.rjust(width) for value, width in zip(row, widths)))
    if any(not r["archive"]["made_in_this_run"] for r in results):
        print("* the archive was cached: its make time is from the run that made it")
    print("† jieba alone on a sample of the text, not all of it (see jieba.sample in the JSON)")
    if len(results) > 1:
        first, last = results[0], results[-1]
        grow = lambda a, b: f"{b / a:.2f}×" if a else "-"  # noqa: E731
        print(f"growth {first['size']:,} → {last['size']:,} ({last['size'] / first['size']:.0f}× articles): "
              f"build time {grow(first['build']['seconds'], last['build']['seconds'])}, "
              f"chars/s {grow(first['build']['chars_per_s'], last['build']['chars_per_s'])}, "
              f"peak RSS {grow(first['build']['peak_rss_mib'], last['build']['peak_rss_mib'])}, "
              f"index {grow(first['build']['final_index_bytes'], last['build']['final_index_bytes'])}, "
              f"p50 {grow(first['queries']['overall']['p50_ms'], last['queries']['overall']['p50_ms'])}, "
              f"p95 {grow(first['queries']['overall']['p95_ms'], last['queries']['overall']['p95_ms'])}"
              + (f", worker RSS {grow(first['serve']['max_worker_rss_mib'], last['serve']['max_worker_rss_mib'])}"
                 if first.get("serve") and last.get("serve") else ""))
    print()
    print_update_load(results)
    print()
    header = ["kind"] + [f"{r['size']:,} p50/p95 ms" for r in results]
    rows = [header]
    for kind in KINDS:
        rows.append([KIND_LABELS[kind]] + [
            (lambda k: f"{k['p50_ms']} / {k['p95_ms']}")(r["queries"]["by_kind"][kind])
            if kind in r["queries"]["by_kind"] else "-" for r in results])
    widths = [max(len(row[n]) for row in rows) for n in range(len(header))]
    for row in rows:
        print("  ".join(value.ljust(widths[0]) if n == 0 else value.rjust(widths[n]) for n, value in enumerate(row)))


def print_update_load(results: list[dict]) -> None:
    """The incremental update and the load step, per size (``-`` when not run)."""
    def upd(cell):
        return lambda r: cell(r["update"]) if r.get("update") else "-"

    def ld(cell):
        return lambda r: cell(r["load"]) if r.get("load") else "-"

    def statuses(counts: dict) -> str:
        return " ".join(f"{k}:{v}" for k, v in sorted(counts.items())) or "none"

    columns = [
        ("articles", lambda r: f"{r['size']:,}"),
        ("+articles", upd(lambda u: f"{u['articles_added']:,}")),
        ("update s", upd(lambda u: f"{u['seconds']}")),
        ("build s", upd(lambda u: f"{u['build_seconds']}")),
        ("update/build", upd(lambda u: f"1/{1 / u['ratio_to_build']:.0f}" if u["ratio_to_build"] else "-")),
        ("≤1/100", upd(lambda u: "yes" if u["meets_targets"]["ratio"] else "NO")),
        ("queries during", upd(lambda u: f"{u['queries_during']}")),
        ("statuses during", upd(lambda u: statuses(u["statuses_during"]))),
        ("visible s", upd(lambda u: f"{u['visible_after_s']}")),
        ("total before→after", upd(lambda u: f"{u['total_before']:,}→{u['total_after']:,}"
                                   if u["total_before"] is not None and u["total_after"] is not None else "?")),
        ("+exact", upd(lambda u: "yes" if u["meets_targets"]["total_grew_exactly"] else "NO")),
        ("load clients", ld(lambda l: f"{l['clients']}")),
        ("req/s", ld(lambda l: f"{l['requests_per_s']}")),
        ("load p50/p95 ms", ld(lambda l: f"{l['p50_ms']} / {l['p95_ms']}")),
        ("load errors", ld(lambda l: f"{l['errors']}")),
        ("≥150 req/s, 0 err", ld(lambda l: "yes" if l["meets_target"] else "NO")),
    ]
    rows = [[name for name, _ in columns]] + [[cell(r) for _, cell in columns] for r in results]
    widths = [max(len(row[n]) for row in rows) for n in range(len(columns))]
    for row in rows:
        print("  ".join(value.rjust(width) for value, width in zip(row, widths)))
    print(f"update: newsearch index of the added articles while serving; statuses of the queries sent during it "
          f"(target all 200); total: /api/search?{urlencode(WHOLE_ARCHIVE)}. Targets at 1M.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000", help="articles per archive, comma-separated")
    parser.add_argument("--queries-per-kind", type=int, default=100)
    parser.add_argument("--serve-queries", type=int, default=1000, help="queries sent to the server (0: no server)")
    parser.add_argument("--load-clients", type=int, default=8, help="clients of the load step (default 8)")
    parser.add_argument("--load-seconds", type=float, default=20, help="length of the load step (0: none)")
    parser.add_argument("--add-articles", type=int, default=1000,
                        help="articles added by the incremental update (0: no update)")
    parser.add_argument("--jieba-mb", type=float, default=20, help="MB of text for jieba alone (at least)")
    parser.add_argument("--seed", type=int, default=scale_archive.DEFAULT_SEED, help="the generator's seed")
    parser.add_argument("--jobs", type=int, default=1, help="processes making an archive (same output)")
    parser.add_argument("--workers", type=int, help="`newsearch index --workers` (default: its own)")
    parser.add_argument("--keep", action="store_true", help="keep the indexes (bench/results/scale-index-N)")
    parser.add_argument("--table", action="store_true", help="only print the table of the saved results")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.table:
        saved = [json.loads(p.read_text()) for p in RESULTS.glob("scale-[0-9]*.json")]
        if not saved:
            raise SystemExit("no saved results (bench/results/scale-N.json)")
        print_table(saved)
        return 0
    if not scale_archive.corpus_files():
        raise SystemExit(f"no corpora in {scale_archive.CORPORA}: the archives are made from them")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = [run_size(size, args) for size in sizes]
    print()
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
