"""deploy/'s engine (issue 13): the configurations, the ``up`` / ``status`` / ``down`` command, and
real ``searchd`` shards: rows written to each shard are all read through the distributed table,
facet counts add up across shards, writes find the shards from the backend URL, and a shard
that is down shows (Sphinx answers from the other shards with a warning; it raises nothing).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections import Counter

import pytest

from conftest import ROOT
from engine import free_base_port, insert
from indexer import engine
from indexer.documents import prepare_article
from indexer.engine_deploy import (DISTRIBUTED, DeployError, Layout, down, node_config, running_pid, start_node,
                                   write_configs)
from indexer.records import Article

CITIES = ("沈阳", "大连", "铁岭")
COUNT_ALL = f"SELECT COUNT(*) FROM {{table}} WHERE MATCH('@tags {engine.ALL}')"


def articles(count: int = 12) -> list[Article]:
    return [Article(id=f"deploy-{number:03d}", source=f"/archive/page_{number % 4}.txt",
                    text=f"本报讯 第{number}篇 今天召开会议，讨论民生实事。", year=2019 + number % 3,
                    city=CITIES[number % len(CITIES)])
            for number in range(count)]


def fill(cluster, items: list[Article]) -> list[list[Article]]:
    """Writes each article to its shard (``doc_id % shards``, as the indexer does); returns them by shard."""
    by_shard = [[] for _ in cluster.shards]
    for article in items:
        by_shard[engine.doc_id(article.id) % len(by_shard)].append(article)
    cluster.clear()
    for number, shard in enumerate(cluster.shards):
        connection = cluster.connect(number)
        try:
            for article in by_shard[number]:
                insert(connection, shard.table, engine.row(prepare_article(article, "fingerprint", None)))
        finally:
            connection.close()
    return by_shard


def query(node: engine.Node, sql: str) -> tuple[list[list[tuple]], int]:
    """Every result set of ``sql`` (a FACET adds some) and the statement's warning count."""
    connection = engine.connect(node)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            warnings = cursor.warning_count
            sets = [list(cursor.fetchall())]
            while cursor.nextset():
                sets.append(list(cursor.fetchall()))
            return sets, warnings
    finally:
        connection.close()


def meta(node: engine.Node, sql: str) -> list[tuple]:
    """``SHOW META`` after ``sql``, on the same connection."""
    connection = engine.connect(node)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            while cursor.nextset():
                pass
            cursor.execute("SHOW META")
            return list(cursor.fetchall())
    finally:
        connection.close()


def read_node(cluster) -> engine.Node:
    """Where the backend URL's reads go: the distributed table on node 0."""
    return engine.parse_url(cluster.url).read


def sets_of(result: tuple[list[list[tuple]], int]) -> list[list[tuple]]:
    return result[0]


# -- configurations --------------------------------------------------------------------------------

def test_two_shard_configurations_follow_the_port_convention(tmp_path):
    layout = Layout(tmp_path, shards=2, port=9306)
    first, second = (node_config(layout, node) for node in layout.nodes)
    assert layout.url == "sphinxql://127.0.0.1:9306/articles"
    assert "listen = 127.0.0.1:9312\n" in first and "listen = 127.0.0.1:9306:mysql41\n" in first
    assert "listen = 127.0.0.1:9313\n" in second and "listen = 127.0.0.1:9307:mysql41\n" in second
    assert "index shard1\n" in first and "index shard2\n" in second
    assert "type = distributed\n    local = shard1\n    agent = 127.0.0.1:9313:shard2\n" in first
    assert "agent_connect_timeout = " in first and "agent_query_timeout = " in first
    assert "index articles" not in second and "index shard2" not in first
    assert engine.table_config("shard2", str(tmp_path / "node1" / "data" / "shard2")) in second


def test_one_shard_configuration_has_the_distributed_table_over_its_shard_alone(tmp_path):
    layout = Layout(tmp_path, shards=1, port=9306)
    config = node_config(layout, layout.nodes[0])
    assert layout.url == "sphinxql://127.0.0.1:9306/articles"
    assert "type = distributed\n    local = shard1\n    agent_connect_timeout" in config
    assert "agent = " not in config


def test_layouts_that_break_the_port_convention_are_refused(tmp_path):
    with pytest.raises(DeployError, match="shards must be 1 to 6"):
        Layout(tmp_path, shards=7)
    with pytest.raises(DeployError, match="shards must be 1 to 6"):
        Layout(tmp_path, shards=0)


def test_a_taken_port_is_said_and_nothing_starts(tmp_path):
    layout = Layout(tmp_path, shards=1, port=free_base_port(1, random.Random()))
    write_configs(layout)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", layout.nodes[0].api_port))
        holder.listen()
        with pytest.raises(DeployError, match=f"port 127.0.0.1:{layout.nodes[0].api_port} is taken"):
            start_node(layout, 0)
    assert running_pid(layout.nodes[0]) is None


# -- the command -----------------------------------------------------------------------------------

def deploy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.engine_deploy", *args], capture_output=True,
                          text=True, timeout=180, cwd=ROOT)


def test_up_status_down(tmp_path):
    run = tmp_path / "run"
    port = free_base_port(2, random.Random())
    try:
        started = deploy("up", "--dir", str(run), "--shards", "2", "--port", str(port))
        assert started.returncode == 0, started.stderr
        url = f"sphinxql://127.0.0.1:{port}/articles"
        assert started.stdout.strip() == url
        layout = Layout.load(run)
        assert layout == Layout(run.resolve(), 2, port)
        assert sets_of(query(engine.parse_url(url).read, COUNT_ALL.format(table=DISTRIBUTED))) == [[(0,)]]

        shown = deploy("status", "--dir", str(run))
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.strip().splitlines()
        assert lines[0].startswith(f"node 0: shard1 + articles, SphinxQL 127.0.0.1:{port}, API {port + 6}: running")
        assert lines[1].startswith(f"node 1: shard2, SphinxQL 127.0.0.1:{port + 1}, API {port + 7}: running")
        assert all(line.endswith(", answers") for line in lines[:2]) and lines[2] == url

        again = deploy("up", "--dir", str(run), "--shards", "2", "--port", str(port))
        assert again.returncode == 0 and again.stdout.strip() == url  # already up: nothing new

        stopped = deploy("down", "--dir", str(run))
        assert stopped.returncode == 0 and stopped.stdout.strip() == "stopped node(s) 0, 1"
        assert all(running_pid(node) is None for node in layout.nodes)
        assert deploy("down", "--dir", str(run)).stdout.strip() == "nothing was running"
        shown = deploy("status", "--dir", str(run)).stdout.splitlines()
        assert [line.rsplit(": ", 1)[1] for line in shown[:2]] == ["stopped", "stopped"]
    finally:
        if Layout.load(run):
            down(Layout.load(run))


# -- real shards -----------------------------------------------------------------------------------

def test_rows_of_both_shards_are_read_through_the_distributed_table(two_shards):
    items = articles()
    by_shard = fill(two_shards, items)
    assert all(by_shard), "the ids should fall on both shards"
    for number, shard in enumerate(two_shards.shards):
        assert sets_of(query(shard, COUNT_ALL.format(table=shard.table))) == [[(len(by_shard[number]),)]]
    (rows,), warnings = query(read_node(two_shards), COUNT_ALL.format(table=DISTRIBUTED))
    assert rows == [(len(items),)] and warnings == 0
    (hits,), _ = query(read_node(two_shards), f"SELECT aid FROM {DISTRIBUTED} WHERE MATCH('@tags {engine.ALL}') "
                                              f"ORDER BY id ASC LIMIT 100")
    assert sorted(aid for aid, in hits) == sorted(article.id for article in items)


def test_facet_counts_add_up_across_shards(two_shards):
    items = articles()
    fill(two_shards, items)
    sets, warnings = query(read_node(two_shards), f"SELECT id FROM {DISTRIBUTED} WHERE MATCH('@tags {engine.ALL}') "
                                                  f"LIMIT 1 FACET year ORDER BY year ASC FACET city")
    assert warnings == 0 and len(sets) == 3
    assert dict(sets[1]) == Counter(article.year for article in items)
    city_ids = {engine.value_id("city", city): city for city in CITIES}
    assert {city_ids[value]: count for value, count in sets[2]} == Counter(article.city for article in items)


def test_writes_find_both_shards_from_the_backend_url(two_shards):
    connection = two_shards.connect(0)
    try:
        nodes = engine.write_nodes(engine.parse_url(two_shards.url), connection)
    finally:
        connection.close()
    port = two_shards.nodes[0].sql_port
    assert nodes == [engine.Node("127.0.0.1", port, "shard1"), engine.Node("127.0.0.1", port + 1, "shard2")]
    assert nodes == two_shards.shards


def test_one_shard_serves_the_same_url_form(one_shard):
    port = one_shard.nodes[0].sql_port
    assert one_shard.url == f"sphinxql://127.0.0.1:{port}/articles"
    connection = one_shard.connect(0)
    try:
        assert engine.write_nodes(engine.parse_url(one_shard.url), connection) == [
            engine.Node("127.0.0.1", port, "shard1")]
    finally:
        connection.close()
    items = articles(5)
    fill(one_shard, items)
    assert sets_of(query(read_node(one_shard), COUNT_ALL.format(table=DISTRIBUTED))) == [[(5,)]]


def test_a_shard_down_gives_partial_results_and_a_warning(two_shards):
    """Sphinx 2.2 raises nothing when an agent is down: the statement answers from the shards it
    reached, its warning count is 1, and ``SHOW META`` (and ``SHOW WARNINGS``) says which agent
    failed. Writing to the stopped shard, or reading when node 0 is down, cannot connect."""
    items = articles()
    by_shard = fill(two_shards, items)
    with two_shards.node_down(1) as node:
        sql = COUNT_ALL.format(table=DISTRIBUTED)
        (rows,), warnings = query(read_node(two_shards), sql)
        assert rows == [(len(by_shard[0]),)] and warnings == 1
        first, *rest = meta(read_node(two_shards), sql)
        assert first[0] == "warning"
        assert first[1].startswith(f"index articles: agent 127.0.0.1:{node.api_port}: connect() failed: errno=111")
        assert "warning" not in dict(rest)
        with pytest.raises(engine.EngineError, match=f"cannot reach the search engine at 127.0.0.1:{node.sql_port}"):
            engine.connect(node.engine_node)
    # Started again, the shard still holds its rows (RT tables are saved when searchd stops).
    (rows,), warnings = query(read_node(two_shards), COUNT_ALL.format(table=DISTRIBUTED))
    assert rows == [(len(items),)] and warnings == 0
    assert "warning" not in dict(meta(read_node(two_shards), COUNT_ALL.format(table=DISTRIBUTED)))


def test_the_read_node_down_cannot_connect(two_shards):
    items = articles(7)
    fill(two_shards, items)
    port = two_shards.nodes[0].sql_port
    with two_shards.node_down(0):
        with pytest.raises(engine.EngineError, match=f"cannot reach the search engine at 127.0.0.1:{port}: "):
            engine.connect(read_node(two_shards), timeout=2)
    assert sets_of(query(read_node(two_shards), COUNT_ALL.format(table=DISTRIBUTED))) == [[(len(items),)]]


def test_a_stale_pid_file_names_no_running_node(tmp_path):
    """A pid file left behind whose number now belongs to another process: the node is not running,
    so ``down`` kills nothing."""
    layout = Layout(tmp_path, shards=1, port=9306)
    write_configs(layout)
    layout.nodes[0].pid_file.write_text(f"{os.getpid()}\n")
    assert running_pid(layout.nodes[0]) is None
    assert down(layout) == []
