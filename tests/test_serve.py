"""`newsearch serve` on a machine with no index: builds one, then serves with gunicorn."""

import json
import subprocess
import sys
import time
import urllib.request

from conftest import CORPUS, ROOT, free_port



def test_serve_builds_the_index_then_serves_under_gunicorn(tmp_path):
    port = free_port()
    index_dir = tmp_path / "index"
    process = subprocess.Popen(
        [sys.executable, "-m", "searchapp.cli", "serve", "--port", str(port),
         "--index-dir", str(index_dir), "--corpus", str(CORPUS)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=%E7%BB%86%E6%B2%B3", timeout=5) as response:
                    body = json.loads(response.read())
                    server = response.headers["Server"]
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert body["total"] == 4
        assert server.startswith("gunicorn") and "Werkzeug" not in server
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200 and "新闻档案检索" in response.read().decode()
        assert list(index_dir.glob("newsearch.*.json"))
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "indexing" in process.stderr.read()


def _get(url: str):
    """(status, headers, body) of a GET, errors included."""
    import urllib.error
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_documented_query_limit_holds_under_gunicorn(corpus_index):
    """500 Han characters are 4,500 bytes of URL: more than gunicorn's default request line."""
    import gzip
    from urllib.parse import quote
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "searchapp.cli", "serve", "--port", str(port), "--workers", "1",
         "--index-dir", str(corpus_index)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/api/openapi.json", timeout=5).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        longest, too_long = quote("阜" * 500), quote("阜" * 501)
        status, headers, body = _get(f"{base}/?q={longest}&city=%E9%98%9C%E6%96%B0&sort=date")
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert "新闻档案检索" in gzip.decompress(body).decode()
        status, headers, body = _get(f"{base}/?q={too_long}")
        page = gzip.decompress(body).decode() if headers.get("Content-Encoding") == "gzip" else body.decode()
        assert status == 400 and "查询太长：501 个字符，最多 500 个。" in page
        status, headers, body = _get(f"{base}/api/search?q={too_long}")
        error = json.loads(gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body)
        assert status == 400 and error["error"]["reason"] == "too_long" and error["error"]["parameter"] == "q"
        assert _get(f"{base}/api/search?q={longest}")[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
