"""Load benchmark: `newsearch serve` (gunicorn) on loopback, 1, 8 and 32 concurrent clients.

Each client is a thread with one keep-alive HTTP connection, sending mixed queries (the search
benchmark's query set, to /api/search and to the HTML page) for ``--seconds`` per level; the
run is bounded in time and count and only ever talks to 127.0.0.1.

    python bench/load_bench.py [--index-dir bench/results/cctv-index] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
MAX_REQUESTS_PER_LEVEL = 200_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


def paths_for(queries) -> list[str]:
    paths = []
    for number, (_, text, year) in enumerate(queries):
        params = [("q", text)] + ([("year", year)] if year else [])
        route = "/api/search" if number % 3 else "/"
        paths.append(route + "?" + urlencode(params))
    return paths


def run_level(port: int, paths: list[str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    budget = [MAX_REQUESTS_PER_LEVEL]

    def client(seed: int):
        nonlocal errors
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        failed = 0
        why: dict[str, int] = {}
        while time.monotonic() < stop_at:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            path = rng.choice(paths)
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
                    why[f"HTTP {response.status}"] = why.get(f"HTTP {response.status}", 0) + 1
            except (OSError, http.client.HTTPException) as error:
                failed += 1
                why[type(error).__name__] = why.get(type(error).__name__, 0) + 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append((time.perf_counter() - started) * 1000)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += failed
            for kind, count in why.items():
                kinds[kind] = kinds.get(kind, 0) + count

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(fraction):
        return round(latencies[min(len(latencies) - 1, int(fraction * (len(latencies) - 1)))], 1) if latencies else None

    return {"clients": clients, "requests": len(latencies), "errors": errors, "error_kinds": kinds,
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99)}


def main() -> int:
    from bench.search_bench import load_records, make_queries

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default=str(RESULTS / "cctv-index"))
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=4, help="threads per server worker")
    parser.add_argument("--levels", default="1,8,32")
    args = parser.parse_args()
    index_dir = Path(args.index_dir)
    if not (index_dir / "newsearch.json").exists():
        raise SystemExit(f"no index in {index_dir}: run `make bench-index` first")
    queries = make_queries(load_records("cctv", 0), 320, seed=11)
    paths = paths_for(queries)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "searchapp.cli", "serve", "--port", str(port), "--threads", str(args.threads),
         "--index-dir", str(index_dir)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(port, server)
        run_level(port, paths, 4, 5)  # warm up
        levels = [run_level(port, paths, int(n), args.seconds) for n in args.levels.split(",")]
    finally:
        server.terminate()
        server.wait(timeout=10)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(levels, indent=2))
    print(f"{'clients':>7} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
    for level in levels:
        print(f"{level['clients']:>7} {level['requests']:>9} {level['requests_per_s']:>7} {level['p50_ms']:>7} "
              f"{level['p95_ms']:>7} {level['p99_ms']:>7} {level['errors']:>6} {level['error_kinds'] or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
