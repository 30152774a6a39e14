"""The ``newsearch`` command: parse the arguments, call the indexer or the core, print.

Exit status: 0 success; 1 something was skipped, changed (a title cut, an article split: said as
a warning) or missing (bad input files, no index, unknown id), or a run failed and the index was
left as it was; 2 bad usage (bad query, bad option value); 130 / 143 interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer import fields
from searchapp import settings

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _fail(message: str, status: int) -> int:
    print(f"newsearch: error: {message}", file=sys.stderr)
    return status


def _index_dir(args) -> Path:
    return Path(args.index_dir) if args.index_dir else settings.default_index_dir()


class Terminated(BaseException):
    """SIGTERM, turned into an exception so that a run cleans up as it does for Ctrl-C.

    A ``BaseException``, as ``KeyboardInterrupt`` is: a library's ``except Exception`` must not
    catch it (jieba's dictionary loader turned it into a ``ValueError`` and a traceback). A
    library with a bare ``except:`` can still turn it into an error of its own (opencc's import
    made it an ``ImportError``): an error raised after SIGTERM arrived is taken as the SIGTERM."""


_sigterm_received = False


def _on_sigterm(signum, frame):
    global _sigterm_received
    _sigterm_received = True
    raise Terminated()


def _print_report(report, args) -> int:
    from searchapp.highlight import printable

    for note in report.notes:
        print(f"newsearch: {printable(note)}", file=sys.stderr)
    for problem in report.problems:
        said = "skipped" if problem.skipped else "warning:"
        print(f"newsearch: {said} {printable(str(problem))}", file=sys.stderr)
    if args.json:
        from searchapp.terminal import dump_json
        print(dump_json(report.to_dict()))
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def _write_index(args, run, engine: str | None = None) -> int:
    """Run an index-writing function; errors, Ctrl-C and SIGTERM end it with a message.
    ``engine``: the URL of the engine it writes to (``None``: the embedded index)."""
    import signal

    from indexer.build import IndexBuildError, IndexBusy, WriteFailed
    from indexer.engine import EngineError

    global _sigterm_received
    _sigterm_received = False
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            report = run()
        except Exception:
            if _sigterm_received:  # a library turned the SIGTERM into an error of its own
                raise Terminated() from None
            raise
    except (IndexBuildError, IndexBusy) as error:
        return _fail(str(error), EXIT_USAGE if isinstance(error, IndexBuildError) else EXIT_PROBLEMS)
    except (WriteFailed, EngineError) as error:
        return _fail(str(error), EXIT_PROBLEMS)
    except (KeyboardInterrupt, Terminated) as interruption:
        status = 130 if isinstance(interruption, KeyboardInterrupt) else 143
        return _fail("interrupted; the files written so far are in the engine, and the next run "
                     "finishes the job" if engine else "interrupted; the index is as it was before this run", status)
    except OSError as error:
        return _fail(f"{error.filename or ''}: {error.strerror or error}", EXIT_PROBLEMS)
    finally:
        signal.signal(signal.SIGTERM, previous)
    status = _print_report(report, args)
    if not args.json:
        if report.removed:
            for source in report.removed[:20]:
                print(f"removed {source}")
            if len(report.removed) > 20:
                print(f"removed {len(report.removed) - 20} more sources")
        print(f"indexed {report.articles_added} articles from {report.files_indexed} files "
              f"({report.files_unchanged} unchanged, {report.files_removed} removed with "
              f"{report.articles_removed} articles, {len(report.problems)} problems) "
              f"in {report.seconds:.1f}s; {engine or _index_dir(args)} holds {report.articles_total} articles")
    return status


def cmd_index(args) -> int:
    from indexer.build import build_index
    from indexer.progress import Progress

    if not args.paths and not settings.DEFAULT_CORPUS.is_dir():
        return _fail("give the files or folders to index", EXIT_USAGE)
    paths = [Path(p) for p in args.paths] or [settings.DEFAULT_CORPUS]
    factory = None if args.quiet else (lambda total, label: Progress(total, label))
    url = _engine_url(args)
    if url:
        from indexer.engine_build import build_engine_index

        return _write_index(args, lambda: build_engine_index(paths, url, rebuild=args.rebuild,
                                                             progress_factory=factory), engine=url)
    return _write_index(args, lambda: build_index(paths, _index_dir(args), rebuild=args.rebuild,
                                                  workers=args.workers, progress_factory=factory))


def _engine_url(args) -> str | None:
    """The engine ``--backend`` / ``$NEWSEARCH_BACKEND`` names, ``None`` for the embedded index;
    a bad URL ends the command (exit 2)."""
    from indexer.engine import EngineError
    from searchapp.backends import backend_url

    try:
        return backend_url(args.backend)
    except EngineError as error:
        raise SystemExit(_fail(str(error), EXIT_USAGE)) from None


def cmd_remove(args) -> int:
    from indexer.build import remove_sources

    url = _engine_url(args)
    if url:
        from indexer.engine_build import remove_engine_sources

        return _write_index(args, lambda: remove_engine_sources([Path(p) for p in args.paths], url), engine=url)
    return _write_index(args, lambda: remove_sources([Path(p) for p in args.paths], _index_dir(args)))


def _open(args):
    """The index to search: the engine of ``--backend`` / ``$NEWSEARCH_BACKEND``, else the
    embedded index in ``--index-dir``."""
    from indexer.engine import EngineError
    from searchapp.backends import backend_url, open_backend
    from searchapp.store import IndexMissing

    try:
        return open_backend(_index_dir(args), backend_url(getattr(args, "backend", None)))
    except (IndexMissing, EngineError) as error:
        raise SystemExit(_fail(str(error), EXIT_PROBLEMS)) from None


def date_params(value: str | None) -> dict[str, str]:
    """``--date``'s value (``2023-05``, ``2023-05-01..``, …) as the ``date_from`` / ``date_to``
    parameters; raises ``QueryError`` naming ``--date``."""
    from indexer.dates import DateError, DateRange
    from searchapp.query import QueryError

    if value is None:
        return {}
    try:
        span = DateRange.parse(value)
    except DateError as error:
        raise QueryError(f"--date: {error}", "date", code="bad_date") from None
    return {name: text for name, text in (("date_from", span.start_text), ("date_to", span.end_text)) if text}


def query_params(args) -> dict:
    """The query's parameters (the URL's names, checked by ``query_from_args``) from the options
    ``add_query_options`` adds and the QUERY words; raises ``QueryError`` for a bad ``--date``."""
    return {"q": " ".join(part.strip() for part in args.query),  # 阜新 招商 unquoted is one query
            "sort": args.sort, "aliases": "0" if args.no_aliases else "1",
            **{field.name: getattr(args, field.name) for field in fields.FACETS},
            **date_params(args.date)}


def cmd_search(args) -> int:
    from searchapp.core import search
    from searchapp.highlight import HtmlFormatter
    from searchapp.query import QueryError
    from searchapp.request import query_from_args
    from searchapp.terminal import colour_wanted, dump_json, render_result, terminal_formatter

    try:
        params = {**query_params(args), "page": str(args.page), "per_page": str(args.per_page)}
        query = query_from_args(params, max_chars=settings.MAX_QUERY_CHARS)
        if not query.text and query.is_empty:
            raise QueryError("empty query: type a word to search for", code="empty_query")
    except QueryError as error:
        return _fail(str(error), EXIT_USAGE)
    index = _open(args)
    if args.json:
        print(dump_json(search(index, query, HtmlFormatter(), explain=args.explain).to_dict()))
    else:
        print(render_result(search(index, query, terminal_formatter(), explain=args.explain), colour_wanted()))
    return EXIT_OK


def cmd_show(args) -> int:
    from searchapp.core import get_article
    from searchapp.highlight import HtmlFormatter
    from searchapp.query import QueryError
    from searchapp.request import check_text
    from searchapp.terminal import colour_wanted, dump_json, render_article, terminal_formatter

    try:
        query_text = check_text(args.query or "")
    except QueryError as error:
        return _fail(str(error), EXIT_USAGE)
    index = _open(args)
    fmt = HtmlFormatter() if args.json else terminal_formatter()
    article = get_article(index, args.id, query_text, fmt)
    if article is None:
        return _fail(f"no article with id {args.id!r} (ids are listed by `newsearch search`)", EXIT_PROBLEMS)
    print(dump_json(article.to_dict()) if args.json else render_article(article, colour_wanted()))
    return EXIT_OK


def cmd_kwic(args) -> int:
    from searchapp.kwic import concordance, csv_chunks, request_from_args
    from searchapp.kwic_terminal import render_kwic
    from searchapp.query import QueryError
    from searchapp.terminal import colour_wanted

    try:
        request = request_from_args({**query_params(args), "width": args.width})  # sort: the concordance's
    except QueryError as error:
        return _fail(str(error), EXIT_USAGE)
    result = concordance(_open(args), request)
    if args.csv:
        _write_chunks(csv_chunks(result), None)  # UTF-8 bytes, as the export writes
    else:
        print(render_kwic(result, colour_wanted(), args.limit))
    return EXIT_OK


def _write_chunks(chunks, output: str | None) -> None:
    """Text chunks as UTF-8 to stdout, or to the file ``output`` (``-``: stdout), which appears
    only when every chunk is written (a partial file is removed)."""
    if output in (None, "-"):
        sys.stdout.flush()
        binary = getattr(sys.stdout, "buffer", None)  # UTF-8 whatever the locale says
        for chunk in chunks:
            if binary is None:
                sys.stdout.write(chunk)
            else:
                binary.write(chunk.encode("utf-8"))
        (binary or sys.stdout).flush()
        return
    import errno
    import os
    import tempfile

    path = Path(output)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder", output)
    handle = tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.", suffix=".part",
                                         delete=False)
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk.encode("utf-8"))
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _counted(rows, progress):
    for row in rows:
        yield row
        progress.advance(1)


def cmd_export(args) -> int:
    from indexer.progress import Progress
    from searchapp.export import export, export_options
    from searchapp.query import QueryError
    from searchapp.request import query_from_args

    try:
        params = {**query_params(args), "format": args.format, "limit": args.limit}
        query = query_from_args(params)
        if query.is_empty:
            raise QueryError("empty query: give words to search for or a filter", code="empty_query")
        fmt, limit = export_options(params)
    except QueryError as error:
        return _fail(str(error), EXIT_USAGE)
    result = export(_open(args), query, limit)
    progress = Progress(result.count, "exporting")  # drawn only when stderr is a terminal
    try:
        _write_chunks(fmt.chunks(_counted(result.rows, progress)), args.output)
    except OSError as error:
        return _fail(f"cannot write {args.output}: {error.strerror or error}", EXIT_PROBLEMS)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing was written to the file" if args.output else "interrupted", 130)
    finally:
        progress.close()
    if result.truncated:
        print(f"newsearch: warning: the query selects {result.total} articles; only the first {result.limit} "
              f"were exported (--limit, at most {settings.EXPORT_MAX_ROWS})", file=sys.stderr)
    if args.output not in (None, "-"):
        print(f"exported {result.count} of {result.total} articles to {args.output}")
    return EXIT_OK


def cmd_stats(args) -> int:
    from searchapp.core import stats
    from searchapp.terminal import dump_json

    data = stats(_open(args), with_sources=args.sources)
    if args.json:
        print(dump_json(data))
        return EXIT_OK
    print(f"index      {data['index_dir']}")
    for root in data["roots"]:
        gone = "" if root["exists"] else "  (folder is gone)"
        print(f"root       {root['path']}  {root['files']} files, {root['articles']} articles{gone}")
    print(f"articles   {data['articles']}")
    print(f"pages      {data['pages']}")
    print(f"files      {data['source_files']}")
    print(f"segments   {data['segments']}")
    print(f"size       {data['index_bytes'] / 1e6:.1f} MB")
    for facet, buckets in data["facets"].items():
        shown = "  ".join(f"{b['value']} {b['count']}" for b in buckets[:12])
        print(f"{facet:10} {shown}")
    for source in data.get("sources", []):
        print(f"source     {source['path']}  {source['articles']} articles")
    return EXIT_OK


def cmd_serve(args) -> int:
    from searchapp.web.serve import serve

    from indexer.engine import EngineError
    from searchapp.backends import backend_url

    try:
        backend = backend_url(args.backend)
    except EngineError as error:
        return _fail(str(error), EXIT_USAGE)
    return serve(index_dir=_index_dir(args), corpus=Path(args.corpus), host=args.host,
                 port=args.port, threads=args.threads, workers=args.workers, backend=backend)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return number


def _port(value: str) -> int:
    number = _positive(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a TCP port (1–65535)")
    return number


def _not_text(argv: list[str]) -> str | None:
    """The first argument that is not valid UTF-8 (bytes the shell passed as they were)."""
    for argument in argv:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            return argument.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def _is_term(argument: str) -> bool:
    """``-铁岭``, ``-"细河"``, ``-(…)``: a '-' followed by neither another '-' nor an ASCII letter
    or digit is a term to exclude, never an option (options are ``--name`` and ``-q``)."""
    return len(argument) > 1 and argument[0] == "-" and not (
        argument[1] == "-" or (argument[1].isascii() and argument[1].isalnum()))


def _terms_as_positionals(argv: list[str]) -> list[str]:
    """``newsearch search -铁岭 阜新`` and ``show ID -q -铁岭``: argparse would take ``-铁岭`` for
    an unknown option. It takes an argument holding a space for a positional (or an option's
    value), so such a term gets a leading space (queries are stripped). Not after ``--``, which
    makes everything after it positional anyway, nor for ``--index-dir``'s value."""
    if not argv or argv[0] not in ("search", "show", "kwic", "export"):
        return argv
    fixed = argv[:1]
    for previous, argument in zip(argv, argv[1:]):
        if "--" in fixed or previous == "--index-dir" or not _is_term(argument):
            fixed.append(argument)
        elif argv[0] in ("search", "kwic", "export") or previous in ("-q", "--query"):
            fixed.append(" " + argument)
        else:
            fixed.append(argument)
    return fixed


def add_query_options(sub, sort: bool = True) -> None:
    """A filter per facet, --date, --no-aliases and (with ``sort``) --sort (search, export, kwic,
    which has a --sort of its own)."""
    for field in fields.FACETS:
        sub.add_argument(f"--{field.name}", action="append", help=f"{fields.described(field)} (repeat for several)")
    sub.add_argument("--date", help="date (2023-05-01, 2023-05, 2023) or range (2023-05-01..2023-06-30, "
                                    "either end may be left open); as date:… in the query")
    if sort:
        sub.add_argument("--sort", default="relevance", help="relevance (default) or date")
    sub.add_argument("--no-aliases", action="store_true",
                     help="search a place only by the name typed (not 阜新蒙古族自治县 for 阜蒙县)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsearch", description="Search a Chinese news archive.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_index(sub):
        sub.add_argument("--index-dir", help=f"index folder (default: ${settings.INDEX_DIR_ENV}, "
                                             "else index/ in the current folder)")
        sub.add_argument("--backend", help="search engine: sphinxql://HOST:PORT/TABLE (default: "
                                           "$NEWSEARCH_BACKEND, else the embedded index in --index-dir)")
        return sub

    index = with_index(commands.add_parser("index", help="index archive files (.txt pages, .jsonl[.gz])"))
    index.add_argument("paths", nargs="*", help="files or folders (default: ./corpus). Adds and updates "
                       "them, leaving other indexed files alone; files gone from a folder given "
                       "are removed from the index")
    index.add_argument("--rebuild", action="store_true", help="start over: the index will hold only PATHS")
    index.add_argument("--workers", type=_positive,
                       help="writer processes (default: cores, at most 4; one when there is less than "
                            "4 MiB to index)")
    index.add_argument("--quiet", action="store_true", help="no progress bar")
    index.add_argument("--json", action="store_true", help="print the report as JSON")
    index.set_defaults(handler=cmd_index)

    remove = with_index(commands.add_parser(
        "remove", help="remove indexed files (a file, or every file below a folder) from the index"))
    remove.add_argument("paths", nargs="+", help="files or folders, as they were indexed (they may be gone)")
    remove.add_argument("--json", action="store_true", help="print the report as JSON")
    remove.set_defaults(handler=cmd_remove)

    search = with_index(commands.add_parser("search", help="search the index"))
    search.add_argument("query", nargs="+", metavar="QUERY",
                        help='query, e.g. 阜新 招商 or "细河区" city:阜新 year:2020..2023 (several '
                             'arguments are joined by spaces; -铁岭 excludes, as does anything after --)')
    add_query_options(search)
    search.add_argument("--page", default="1", help=f"which page of results (default: 1, at most {settings.MAX_PAGE})")
    search.add_argument("--per-page", default=str(settings.DEFAULT_PER_PAGE),
                        help=f"hits per page (default: {settings.DEFAULT_PER_PAGE}, at most {settings.MAX_PER_PAGE})")
    search.add_argument("--json", action="store_true", help="print the JSON API's result object")
    search.add_argument("--explain", action="store_true",
                        help="say under each hit why it ranks where it does (tier, score word by word)")
    search.set_defaults(handler=cmd_search)

    show = with_index(commands.add_parser("show", help="print one article"))
    show.add_argument("id", help="the article's id (as `search` lists it)")
    show.add_argument("-q", "--query", help="mark this query's matches")
    show.add_argument("--json", action="store_true", help="print the JSON API's article object")
    show.set_defaults(handler=cmd_show)

    kwic = with_index(commands.add_parser(
        "kwic", help="concordance: every occurrence of the query's words, with the text either side"))
    kwic.add_argument("query", nargs="+", metavar="QUERY",
                      help="query, as for search (its words not excluded are listed; a phrase only where "
                           "it stands whole)")
    add_query_options(kwic, sort=False)
    kwic.add_argument("--width", default=str(settings.KWIC_DEFAULT_WIDTH),
                      help=f"characters either side (default: {settings.KWIC_DEFAULT_WIDTH}, at most "
                           f"{settings.KWIC_MAX_WIDTH})")
    kwic.add_argument("--sort", default="date",
                      help="date (default): newest first; left: by the left context, read from the word "
                           "outwards; right: by the right context")
    kwic.add_argument("--limit", type=_positive, help="print only the first N lines")
    kwic.add_argument("--csv", action="store_true",
                      help=f"print every line as CSV (UTF-8 with a byte order mark; at most {settings.KWIC_MAX_LINES})")
    kwic.set_defaults(handler=cmd_kwic)

    export = with_index(commands.add_parser(
        "export", help="export every article a query finds (not one page) as CSV or JSON Lines"))
    export.add_argument("query", nargs="*", metavar="QUERY",
                        help="query, as for search (may be left out when a filter is given)")
    add_query_options(export)
    export.add_argument("--format", default="csv",
                        help="csv (default) or jsonl: CSV has a header row and is UTF-8 with a byte order "
                             "mark (for Excel and WPS); JSON Lines has one JSON object per line")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    export.add_argument("--limit", help=f"export at most N articles (default and most: {settings.EXPORT_MAX_ROWS})")
    export.set_defaults(handler=cmd_export)

    stats = with_index(commands.add_parser("stats", help="counts and size of the index"))
    stats.add_argument("--sources", action="store_true", help="list every indexed file")
    stats.add_argument("--json", action="store_true", help="print as JSON")
    stats.set_defaults(handler=cmd_stats)

    serve = with_index(commands.add_parser("serve", help="serve the web page and the JSON API (gunicorn)"))
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="TCP port, 1–65535 (default: 8000)")
    serve.add_argument("--workers", type=_positive, help="worker processes (default: cores, at most 4)")
    serve.add_argument("--threads", type=_positive, default=4, help="threads per worker (default: 4)")
    serve.add_argument("--corpus", default=str(settings.DEFAULT_CORPUS),
                       help="archive indexed first when there is no index yet (default: corpus/ in the "
                            "current folder)")
    serve.set_defaults(handler=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bad = _not_text(argv)
    if bad is not None:
        return _fail(f"argument {bad!r} is not valid UTF-8 text", EXIT_USAGE)
    args = build_parser().parse_args(_terms_as_positionals(argv))
    from indexer.engine import EngineError
    from searchapp.core import NotOnEngine

    try:
        return args.handler(args)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    except BrokenPipeError:
        return EXIT_OK
    except (EngineError, NotOnEngine) as error:  # an engine that stopped answering, a tool it lacks
        return _fail(str(error), EXIT_PROBLEMS)


if __name__ == "__main__":
    sys.exit(main())
