"""The Flask app: ``create_app(config)`` registers the search page and the JSON API.

The index is opened once, when the app is created (``searchapp.web.index``), and shared by the
requests of every thread (``SearchIndex`` gives each thread its own Whoosh searcher).
"""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from searchapp import settings
from searchapp.web import api, index, pages

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
