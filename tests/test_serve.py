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
