import pytest

from searchapp.query import (AndNode, FieldNode, NotNode, OrNode, QueryError, TermNode, parse,
                             query_from_args)


def test_terms_and_operators():
    assert parse("阜新 招商") == AndNode((TermNode("阜新", False), TermNode("招商", False)))
    assert parse("阜新 OR 铁岭") == OrNode((TermNode("阜新", False), TermNode("铁岭", False)))
    assert parse("-铁岭 阜新") == AndNode((NotNode(TermNode("铁岭", False)), TermNode("阜新", False)))
    assert parse("NOT 铁岭") == NotNode(TermNode("铁岭", False))
    assert parse("(阜新 OR 铁岭) 招商") == AndNode((OrNode((TermNode("阜新", False), TermNode("铁岭", False))),
                                                  TermNode("招商", False)))
    assert parse('"细河区 文明"') == TermNode("细河区文明", True)
    assert parse("“营商环境”") == TermNode("营商环境", True)
    assert parse("year:2020..2023 city:阜新市 district:細河") == AndNode((
        FieldNode("year", "2020..2023"), FieldNode("city", "阜新"), FieldNode("district", "细河区")))


def test_traditional_and_full_width_queries_normalise():
    assert parse("細河") == parse("细河")
    assert parse("（阜新 OR 鐵嶺）") == parse("(阜新 OR 铁岭)")
    assert parse("ＷｉＦｉ") == TermNode("wifi", False)


@pytest.mark.parametrize("text, message", [
    ('"细河', "unbalanced quote"),
    ("(阜新 OR 铁岭", "unbalanced parenthesis"),
    ("阜新)", "unbalanced parenthesis"),
    ("foo:bar", "unknown field 'foo:'"),
    ("year:20x1", "year must be a year"),
    ("year:2023..2020", "ends before it starts"),
    ("阜新 OR", "OR at position 4 needs a term"),
    ("NOT", "NOT at position 1 needs a term"),
    ('""', "empty quotes"),
    ("city:", "needs a value"),
])
def test_malformed_queries(text, message):
    with pytest.raises(QueryError) as error:
        parse(text)
    assert message in str(error.value)


@pytest.mark.parametrize("args, param, message", [
    ({"q": "x" * 501}, "q", "too long: 501 characters"),
    ({"q": "阜新\x00"}, "q", "control character (U+0000)"),
    ({"q": "a", "per_page": "0"}, "per_page", "between 1 and 100"),
    ({"q": "a", "per_page": "101"}, "per_page", "between 1 and 100"),
    ({"q": "a", "page": "1001"}, "page", "between 1 and 1000"),
    ({"q": "a", "page": "two"}, "page", "whole number"),
    ({"q": "a", "sort": "random"}, "sort", "relevance, date"),
    ({"q": "a", "year": "20.."}, "year", "must be a year"),
    ({"q": "a", "year_from": "2023", "year_to": "2020"}, "year_from", "after year_to"),
    ({"q": "a", "year_from": "abc"}, "year_from", "four-digit year"),
])
def test_bad_parameters_name_the_parameter(args, param, message):
    with pytest.raises(QueryError) as error:
        query_from_args(args)
    assert error.value.param == param and message in str(error.value)


def test_query_from_args_collects_repeated_filters():
    class Args(dict):
        def getlist(self, name):
            value = self.get(name)
            return value if isinstance(value, list) else ([] if value is None else [value])

    query = query_from_args(Args(q="招商", district=["海州区", "細河"], year=["2021", "2020..2023"], sort="date", page="2"))
    assert query.filters == {"district": ("海州区", "细河区"), "year": ("2021", "2020..2023")}
    assert query.sort == "date" and query.page == 2
    again = query_from_args(Args({k: [v for kk, v in query.to_params() if kk == k] for k, _ in query.to_params()}))
    assert again == query
    assert query.toggled("district", "海州区").filters == {"district": ("细河区",), "year": ("2021", "2020..2023")}
