"""The Flask app: ``create_app(config)`` registers the search page and the JSON API.

The index is opened once, when the app is created (which also loads jieba and builds the facet
table), and shared by the requests of every thread (``SearchIndex`` gives each thread its own
Whoosh searcher).
"""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from searchapp import settings
from searchapp.store import REFRESH_SECONDS, IndexMissing, SearchIndex

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(INDEX_DIR=str(settings.default_index_dir()), JSON_AS_ASCII=False)
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    try:
        index = SearchIndex(Path(app.config["INDEX_DIR"]))
        index.warm_up()
        app.extensions["newsearch"] = index
    except IndexMissing as error:
        app.extensions["newsearch"] = error

    from searchapp.web import api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix="/api")

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith("/api/"):
            return api.error_response(error.code or 500, _code(error.code), error.description)
        return render_template("error.html", status=error.code, message=error.description), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        if request.path.startswith("/api/"):
            return api.error_response(500, "internal_error", "the server failed to answer this request")
        return render_template("error.html", status=500, message="服务器出错了，请稍后再试。"), 500

    return app


def _code(status: int | None) -> str:
    return {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(status or 0, "error")


def get_index() -> SearchIndex:
    """The app's index; raises ``IndexMissing`` while there is none (looked for again at most
    every ``REFRESH_SECONDS``, so an index built after the server started is served)."""
    extensions = current_app.extensions
    index = extensions["newsearch"]
    if isinstance(index, IndexMissing):
        now = time.monotonic()
        if now - extensions.get("newsearch_looked", 0.0) < REFRESH_SECONDS:
            raise index
        extensions["newsearch_looked"] = now
        try:
            extensions["newsearch"] = index = SearchIndex(Path(current_app.config["INDEX_DIR"]))
        except IndexMissing as error:
            extensions["newsearch"] = error
            raise error from None
    return index
