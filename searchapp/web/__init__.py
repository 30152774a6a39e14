"""The Flask app: ``create_app(config)`` registers the search page and the JSON API.

The index is opened once, when the app is created (``searchapp.web.index``), and shared by the
requests of every thread (``SearchIndex`` gives each thread its own Whoosh searcher). Every
response gets the security headers, and is gzipped when it is large and the client accepts it;
errors are JSON under ``/api/``, a Chinese page elsewhere (``messages``), with Werkzeug's headers.
"""

from __future__ import annotations

import gzip

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from searchapp import settings
from indexer.engine import EngineError
from searchapp.core import NotOnEngine
from searchapp.query import QueryError
from searchapp.store import IndexMissing
from searchapp.web import api, index, messages, pages
from searchapp.web import citation, feed, kwic
from searchapp.web import export
from searchapp.web import trends
from searchapp.web import browse

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(INDEX_DIR=str(settings.default_index_dir()), JSON_AS_ASCII=False)
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    index.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(citation.bp)
    app.register_blueprint(feed.bp)
    app.register_blueprint(kwic.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(trends.bp)
    app.register_blueprint(browse.bp)

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    app.after_request(compress)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Werkzeug's own headers (a 405's Allow) go with our body.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if request.path.startswith("/api/"):
            response = api.error_response(error.code or 500, _code(error.code), error.description)
            response.headers.extend(headers)
            return response
        message = messages.http_error(error.code, error.description, type(error).description)
        return render_template("error.html", status=error.code, message=message), error.code, headers

    # Blueprints of the features besides search (export, citation, KWIC, …) raise these too:
    # JSON under /api/, the Chinese error page elsewhere.
    @app.errorhandler(QueryError)
    def bad_parameter(error: QueryError):
        if request.path.startswith("/api/"):
            return api.bad_parameter(error)
        return render_template("error.html", status=400, message=messages.query_error(error)), 400

    @app.errorhandler(IndexMissing)
    def no_index(error: IndexMissing):
        if request.path.startswith("/api/"):
            return api.no_index(error)
        return render_template("error.html", status=503, message=messages.index_missing(error)), 503

    @app.errorhandler(EngineError)
    def engine_unavailable(error: EngineError):
        app.logger.warning("search engine: %s", error)
        if request.path.startswith("/api/"):
            return api.error_response(503, "index_unavailable", str(error))
        return render_template("error.html", status=503, message="检索引擎暂时无法回答（某个分片没有响应），请稍后再试。"), 503

    @app.errorhandler(NotOnEngine)
    def not_on_engine(error: NotOnEngine):
        if request.path.startswith("/api/"):
            return api.error_response(501, "not_implemented", str(error))
        return render_template("error.html", status=501, message="这个功能只在内置索引上提供（SphinxQL 后端不支持）。"), 501

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        if request.path.startswith("/api/"):
            return api.error_response(500, "internal_error", "the server failed to answer this request")
        return render_template("error.html", status=500, message="服务器出错了，请稍后再试。"), 500

    return app


COMPRESS_MIN_BYTES = 1024
_COMPRESSIBLE = ("text/", "application/json", "image/svg+xml", "application/javascript",
                 "application/atom+xml")


def compress(response):
    """gzip a response of some size for a client that accepts it (``Vary: Accept-Encoding`` on
    every response that could be compressed). Files sent as they are (static files:
    ``direct_passthrough``), streamed and already encoded responses are left alone."""
    if (response.direct_passthrough or response.is_streamed or "Content-Encoding" in response.headers
            or not (response.mimetype or "").startswith(_COMPRESSIBLE)):
        return response
    response.vary.add("Accept-Encoding")
    if (request.accept_encodings.quality("gzip") <= 0 or response.status_code < 200
            or response.status_code in (204, 304) or "Range" in request.headers):
        return response
    data = response.get_data()
    if len(data) < COMPRESS_MIN_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def _code(status: int | None) -> str:
    return {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(status or 0, "error")
