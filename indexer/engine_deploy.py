"""``deploy/``'s engine: N ``searchd`` nodes on this machine, one shard each, and a distributed table.

``python -m indexer.engine_deploy up|down|status|config [--dir DIR] [--shards N] [--port PORT]``
(``make engine-up`` / ``make engine-down``). Written for Sphinx 2.2.11 (Debian's ``sphinxsearch``);
``deploy/README.md`` says how the same layout runs on Manticore across machines.

**Layout.** Node ``k`` (0, 1, …) is one ``searchd`` listening on ``127.0.0.1``: SphinxQL (MySQL
protocol) on ``PORT + k`` and the native API, which agents speak, on ``PORT + 6 + k`` (the
defaults 9306 / 9312, 9307 / 9313, …: ``indexer.engine``'s convention, API port = SphinxQL port
+ 6, so at most six nodes). Node ``k`` holds the RT table ``shard{k+1}`` (``indexer.engine
.table_config``); node 0 also holds the distributed table ``articles``: its own shard as
``local``, every other one as an ``agent``. Reads go to ``sphinxql://127.0.0.1:PORT/articles``;
writes go to the shards, which ``indexer.engine.write_nodes`` finds from ``DESCRIBE articles``.

**A shard down.** Sphinx does not fail a query when an agent is unreachable: it answers from the
shards it reached and says so in a warning (``SHOW META``), so the agent timeouts below bound how
long a dead or slow shard can delay an answer, and the search backend must read that warning.

Each node's files (configuration, RT data, binary log, pid file, logs) live in its own folder of
the run folder (default ``deploy/run/``), with ``layout.json`` there saying what ``up`` started,
so ``down`` and ``status`` need no options.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pymysql

from indexer import engine

SEARCHD = "searchd"
DEFAULT_PORT = 9306
API_OFFSET = -engine.SQL_PORT_OFFSET  # a node's API port is its SphinxQL port + 6
MAX_SHARDS = API_OFFSET  # more nodes would put a SphinxQL port on node 0's API port
DISTRIBUTED = "articles"
HOST = "127.0.0.1"
DEFAULT_RUN = Path(__file__).resolve().parent.parent / "deploy" / "run"
LAYOUT_FILE = "layout.json"
# Milliseconds. A refused connection (a stopped searchd) fails at once; the connect timeout
# bounds an unreachable host; the query timeout bounds a shard that answers too slowly (a big
# FACET query on millions of rows takes seconds, and a timed-out shard drops out of the answer).
AGENT_CONNECT_TIMEOUT = 1000
AGENT_QUERY_TIMEOUT = 30000
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


class DeployError(Exception):
    """A node would not start or stop; the message says which and why (with its log's tail)."""


@dataclass(frozen=True)
class NodeSpec:
    """One ``searchd`` of a layout: its ports, its RT table and its files."""

    number: int
    host: str
    sql_port: int
    folder: Path

    @property
    def api_port(self) -> int:
        return self.sql_port + API_OFFSET

    @property
    def table(self) -> str:
        return f"shard{self.number + 1}"

    @property
    def config(self) -> Path:
        return self.folder / "searchd.conf"

    @property
    def pid_file(self) -> Path:
        return self.folder / "searchd.pid"

    @property
    def log(self) -> Path:
        return self.folder / "searchd.log"

    @property
    def engine_node(self) -> engine.Node:
        """Its RT table, as a write goes to it (SphinxQL)."""
        return engine.Node(self.host, self.sql_port, self.table)


@dataclass(frozen=True)
class Layout:
    """``shards`` nodes from SphinxQL port ``port`` on, their files under ``folder``."""

    folder: Path
    shards: int = 2
    port: int = DEFAULT_PORT
    host: str = HOST

    def __post_init__(self) -> None:
        if not 1 <= self.shards <= MAX_SHARDS:
            raise DeployError(f"shards must be 1 to {MAX_SHARDS} (API port = SphinxQL port + {API_OFFSET}), "
                              f"not {self.shards}")
        if not 1 <= self.port <= 65535 - API_OFFSET - self.shards:
            raise DeployError(f"port {self.port} leaves no room for {self.shards} nodes")

    @property
    def nodes(self) -> list[NodeSpec]:
        return [NodeSpec(k, self.host, self.port + k, self.folder / f"node{k}") for k in range(self.shards)]

    @property
    def url(self) -> str:
        """The backend URL of the layout: its distributed table on node 0."""
        return f"{engine.SCHEME}://{self.host}:{self.port}/{DISTRIBUTED}"

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"shards": self.shards, "port": self.port, "host": self.host}
        (self.folder / LAYOUT_FILE).write_text(json.dumps(data) + "\n", "utf-8")

    @classmethod
    def load(cls, folder: Path) -> Layout | None:
        """The layout ``up`` last started in ``folder``, or None when it started none there."""
        try:
            data = json.loads((folder / LAYOUT_FILE).read_text("utf-8"))
        except FileNotFoundError:
            return None
        return cls(folder, int(data["shards"]), int(data["port"]), data.get("host", HOST))


# -- configuration ---------------------------------------------------------------------------------

def distributed_config(layout: Layout) -> str:
    """The ``index articles`` block of node 0: its shard local, the others as agents."""
    first, *others = layout.nodes
    lines = [f"index {DISTRIBUTED}", "{", "    type = distributed", f"    local = {first.table}"]
    lines += [f"    agent = {node.host}:{node.api_port}:{node.table}" for node in others]
    lines += [f"    agent_connect_timeout = {AGENT_CONNECT_TIMEOUT}",
              f"    agent_query_timeout = {AGENT_QUERY_TIMEOUT}", "}"]
    return "\n".join(lines) + "\n"


def searchd_config(node: NodeSpec) -> str:
    """The ``searchd`` block of a node: its two listeners and its files."""
    lines = [
        "searchd", "{",
        f"    listen = {node.host}:{node.api_port}",
        f"    listen = {node.host}:{node.sql_port}:mysql41",
        f"    log = {node.log}",
        f"    query_log = {node.folder / 'query.log'}",
        f"    pid_file = {node.pid_file}",
        f"    binlog_path = {node.folder / 'binlog'}",
        "    workers = threads",  # RT tables need it
        "    read_timeout = 5",
        "    client_timeout = 300",
        # Rows carry the article's text, and agents send whole rows back: the largest packet.
        "    max_packet_size = 128M",
        "    seamless_rotate = 1",
        "    preopen_indexes = 1",
        "    unlink_old = 1",
        "}",
    ]
    return "\n".join(lines) + "\n"


def node_config(layout: Layout, node: NodeSpec) -> str:
    """The whole configuration file of one node."""
    role = "its shard and the distributed table" if node.number == 0 else "its shard"
    header = (f"# newsearch engine, node {node.number} of {layout.shards}: {role}.\n"
              f"# Generated by indexer/engine_deploy.py (see deploy/README.md); edits are overwritten.\n\n")
    parts = [engine.table_config(node.table, str(node.folder / "data" / node.table))]
    if node.number == 0:
        parts.append(distributed_config(layout))
    parts.append(searchd_config(node))
    return header + "\n".join(parts)


def write_configs(layout: Layout) -> list[Path]:
    """Writes every node's configuration (and makes its folders); returns the files."""
    layout.save()
    written = []
    for node in layout.nodes:
        for folder in (node.folder, node.folder / "data", node.folder / "binlog"):
            folder.mkdir(parents=True, exist_ok=True)
        node.config.write_text(node_config(layout, node), "utf-8")
        written.append(node.config)
    return written


# -- processes -------------------------------------------------------------------------------------

def searchd_path() -> str:
    found = shutil.which(SEARCHD)
    if not found:
        raise DeployError("searchd is not installed: apt-get install sphinxsearch (or run .ci/ensure-sphinx)")
    return found


def _process(pid: int) -> tuple[int, list[str]] | None:
    """(parent pid, command line) of a live process, from Linux's ``/proc`` (where Debian's
    sphinxsearch runs); None when it is gone or a zombie (a daemon its watchdog has not reaped)."""
    try:
        state, parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, ValueError):
        return None
    return None if state in ("Z", "X") else (int(parent), command)


def _is_searchd(pid: int, node: NodeSpec) -> bool:
    """Whether ``pid`` is a searchd of ``node``'s configuration (its daemon or its watchdog)."""
    process = _process(pid)
    return bool(process) and Path(process[1][0]).name == SEARCHD and str(node.config) in process[1]


def running_pid(node: NodeSpec) -> int | None:
    """The pid of the node's searchd when it runs (from its pid file), else None."""
    try:
        pid = int(node.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _is_searchd(pid, node) else None


def answers(node: NodeSpec, timeout: float = 1.0) -> bool:
    """Whether the node's SphinxQL port answers with its tables loaded."""
    try:
        connection = engine.connect(engine.Node(node.host, node.sql_port, node.table), timeout=timeout)
    except engine.EngineError:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW TABLES")
            tables = {row[0] for row in cursor.fetchall()}
    except pymysql.err.MySQLError:  # a node still loading may drop the connection
        return False
    finally:
        connection.close()
    return node.table in tables


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _log_tail(node: NodeSpec, lines: int = 8) -> str:
    try:
        text = node.log.read_text("utf-8", "replace").strip().splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text[-lines:])


def start_node(layout: Layout, number: int, timeout: float = START_TIMEOUT) -> NodeSpec:
    """Starts node ``number`` (unless it runs) and returns once its SphinxQL port answers."""
    node = layout.nodes[number]
    if running_pid(node) is None:
        for port in (node.sql_port, node.api_port):
            if not port_free(node.host, port):
                raise DeployError(f"node {number}: port {node.host}:{port} is taken by another program")
        try:  # returns once the daemon runs (or, when it cannot bind a port, after its retries)
            done = subprocess.run([searchd_path(), "--config", str(node.config)], capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DeployError(f"node {number}: searchd did not start within {timeout:.0f} s\n"
                              f"{_log_tail(node)}") from None
        if done.returncode != 0:
            raise DeployError(f"node {number}: searchd exited with {done.returncode}:\n"
                              f"{(done.stdout + done.stderr).strip()[-2000:]}\n{_log_tail(node)}")
    # searchd returns once its daemon has written the pid file, and the daemon answers once its
    # tables are loaded (an RT table replays its binary log first): poll until then.
    deadline = time.monotonic() + timeout
    while not answers(node):
        if running_pid(node) is None:
            raise DeployError(f"node {number}: searchd exited\n{_log_tail(node)}")
        if time.monotonic() > deadline:
            raise DeployError(f"node {number}: SphinxQL port {node.sql_port} did not answer within "
                              f"{timeout:.0f} s\n{_log_tail(node)}")
        time.sleep(0.05)  # the poll's interval; the deadline above bounds the wait
    return node


def stop_node(layout: Layout, number: int, timeout: float = STOP_TIMEOUT) -> bool:
    """Stops node ``number`` and waits until its processes have exited; False when it was not running."""
    node = layout.nodes[number]
    pid = running_pid(node)
    if pid is None:
        return False
    process = _process(pid)
    watchdog = process[0] if process else 0  # the parent that would start a killed daemon again
    ours = [pid] + ([watchdog] if _is_searchd(watchdog, node) else [])
    try:
        subprocess.run([searchd_path(), "--config", str(node.config), "--stopwait"], capture_output=True,
                       text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    if _is_searchd(pid, node):  # --stopwait failed or timed out: kill this node's processes, by their ids
        for victim in reversed(ours):
            if _is_searchd(victim, node):
                with contextlib.suppress(ProcessLookupError):  # it exited since
                    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(_is_searchd(each, node) for each in ours):
        if time.monotonic() > deadline:
            raise DeployError(f"node {number}: searchd (pid {pid}) did not exit within {timeout:.0f} s")
        time.sleep(0.05)  # the watchdog exits just after the daemon
    return True


def up(layout: Layout, timeout: float = START_TIMEOUT) -> str:
    """Writes the configurations, starts every node (the agents first) and returns the URL."""
    searchd_path()
    write_configs(layout)
    try:
        for node in reversed(layout.nodes):
            start_node(layout, node.number, timeout)
    except BaseException:
        down(layout)
        raise
    return layout.url


def down(layout: Layout, timeout: float = STOP_TIMEOUT) -> list[int]:
    """Stops every node that runs (node 0, the distributed table, first); returns those stopped."""
    return [node.number for node in layout.nodes if stop_node(layout, node.number, timeout)]


def status(layout: Layout) -> list[str]:
    """One line per node: what it holds, where it listens, and whether it runs and answers."""
    lines = []
    for node in layout.nodes:
        pid = running_pid(node)
        state = "stopped" if pid is None else f"running (pid {pid}), {'answers' if answers(node) else 'NOT answering'}"
        tables = node.table + (f" + {DISTRIBUTED}" if node.number == 0 else "")
        lines.append(f"node {node.number}: {tables}, SphinxQL {node.host}:{node.sql_port}, "
                     f"API {node.api_port}: {state}")
    return lines


# -- command line ----------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m indexer.engine_deploy",
                                    description="Start, stop or show the sharded Sphinx engine of deploy/.")
    parse.add_argument("action", choices=("up", "down", "status", "config"))
    parse.add_argument("--dir", type=Path, default=DEFAULT_RUN, help="run folder (default: deploy/run)")
    parse.add_argument("--shards", type=int, default=None, help="number of shards (default: 2)")
    parse.add_argument("--port", type=int, default=None, help=f"node 0's SphinxQL port (default: {DEFAULT_PORT})")
    return parse


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    folder = args.dir.resolve()
    try:
        saved = Layout.load(folder)
        if args.action in ("down", "status") and args.shards is None and args.port is None:
            layout = saved or Layout(folder)
        else:
            layout = Layout(folder, args.shards or 2, args.port or DEFAULT_PORT)
        if args.action == "up":
            if saved and saved != layout and any(running_pid(node) for node in saved.nodes):
                raise DeployError(f"another layout runs in {folder}: run down first")
            print(up(layout))
        elif args.action == "down":
            stopped = down(layout)
            print(f"stopped node(s) {', '.join(map(str, stopped))}" if stopped else "nothing was running")
        elif args.action == "status":
            print("\n".join(status(layout)))
            print(layout.url)
        else:
            for node in layout.nodes:
                print(f"# ---- {node.config}\n{node_config(layout, node)}")
    except DeployError as error:
        print(f"engine: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
