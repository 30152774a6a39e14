"""Real Sphinx engines for tests: ``searchd`` nodes on free ports in a tmp folder, laid out as
``deploy/`` lays them out (``indexer.engine_deploy``: the same configurations, the same port
convention, API port = SphinxQL port + 6), so a test talks to the engine a user would run.

``conftest.py``'s session fixtures ``one_shard`` and ``two_shards`` yield a ``Cluster``; a test
that needs empty tables calls ``clear()``, and one that stops a node does it in ``node_down(k)``,
which starts it again whatever happens.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path

from indexer import engine
from indexer.engine_deploy import API_OFFSET, DeployError, Layout, NodeSpec, port_free, start_node, stop_node, up, down

# Below Linux's ephemeral range (32768–60999), where clients' own ports come from.
PORT_RANGE = (20000, 32000)
ATTEMPTS = 20


def free_base_port(shards: int, rng: random.Random, host: str = "127.0.0.1") -> int:
    """A SphinxQL port ``p`` such that ``p … p+shards-1`` and their API ports ``+6`` are free."""
    for _ in range(200):
        base = rng.randrange(*PORT_RANGE)
        ports = [base + k for k in range(shards)] + [base + API_OFFSET + k for k in range(shards)]
        if all(port_free(host, port) for port in ports):
            return base
    raise DeployError(f"no free ports for {shards} node(s) in {PORT_RANGE}")


class Cluster:
    """Running ``searchd`` nodes of one layout, and what tests do with them."""

    def __init__(self, layout: Layout):
        self.layout = layout

    @property
    def url(self) -> str:
        """``sphinxql://127.0.0.1:PORT/articles``: the distributed table on node 0."""
        return self.layout.url

    @property
    def nodes(self) -> list[NodeSpec]:
        return self.layout.nodes

    @property
    def shards(self) -> list[engine.Node]:
        """Each node's RT table, as writes reach it (SphinxQL)."""
        return [node.engine_node for node in self.nodes]

    def connect(self, number: int = 0):
        """A SphinxQL connection to node ``number``."""
        return engine.connect(self.shards[number])

    def stop_node(self, number: int) -> None:
        stop_node(self.layout, number)

    def start_node(self, number: int) -> None:
        start_node(self.layout, number)

    @contextmanager
    def node_down(self, number: int):
        """Node ``number`` stopped for the block, started again after it (also when it fails)."""
        self.stop_node(number)
        try:
            yield self.nodes[number]
        finally:
            self.start_node(number)

    def clear(self) -> None:
        """Empties every shard."""
        for number, node in enumerate(self.shards):
            connection = self.connect(number)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"TRUNCATE RTINDEX {node.table}")
            finally:
                connection.close()

    def stop(self) -> None:
        down(self.layout)


def start_cluster(folder: Path, shards: int, seed: int | None = None) -> Cluster:
    """Starts ``shards`` nodes on free ports under ``folder``; tries other ports when another
    program takes one between the check and ``searchd``'s bind."""
    rng = random.Random(seed)
    problem = None
    for attempt in range(ATTEMPTS):
        layout = Layout(folder / f"try{attempt}", shards, free_base_port(shards, rng))
        try:
            up(layout)
        except DeployError as error:  # up() stopped what it had started
            problem = error
            if "is taken" not in str(error) and "bind()" not in str(error):
                raise
            continue
        return Cluster(layout)
    raise DeployError(f"no layout of {shards} node(s) started in {ATTEMPTS} attempts: {problem}")


def insert(connection, table: str, row: dict) -> None:
    """``REPLACE`` one engine row (``indexer.engine.row``) into an RT table: multi-valued
    attributes as ``(v1,v2)`` lists, every other value a parameter."""
    columns, values, params = [], [], []
    for name, value in row.items():
        columns.append(name)
        if isinstance(value, list):
            values.append("(" + ",".join(str(int(v)) for v in value) + ")")
        else:
            values.append("%s")
            params.append(value)
    with connection.cursor() as cursor:
        cursor.execute(f"REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})", params)
