import pytest

from searchapp.query import QueryError, Range
from searchapp.request import query_from_args


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
    assert query.filters == {"district": ("海州区", "细河区"), "year": (Range(2021, 2021), Range(2020, 2023))}
    assert query.sort == "date" and query.result_page == 2
    again = query_from_args(Args({k: [v for kk, v in query.to_params() if kk == k] for k, _ in query.to_params()}))
    assert again == query
    assert query.toggled("district", "海州区").filters == {"district": ("细河区",), "year": query.filters["year"]}
    assert query.toggled("year", "2021").filters["year"] == (Range(2020, 2023),)


def test_range_bounds_come_from_the_range_facets():
    query = query_from_args({"q": "a", "year_from": "2020"})
    assert query.bounds == {"year": Range(2020, None)} and ("year_from", "2020") in query.to_params()


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_pasted_invisible_characters_are_removed_not_refused(char):
    query = query_from_args({"q": f"{char}细河{char}区 文明{char}", "district": f"海州区{char}"})
    assert query.text == "细河区 文明" and query.filters == {"district": ("海州区",)}


def test_a_query_at_the_limit_with_invisible_characters_is_not_too_long():
    assert len(query_from_args({"q": "\ufeff" + "阜" * 500 + "\u200b"}).text) == 500


def test_other_format_characters_are_still_refused_where_they_were_typed():
    with pytest.raises(QueryError) as error:
        query_from_args({"q": "\u200b阜新\u202e"})  # right-to-left override
    assert error.value.code == "control_character" and "(U+202E) at position 4" in str(error.value)


@pytest.mark.parametrize("args, code", [
    ({"q": "x" * 501}, "too_long"), ({"q": "a", "per_page": "0"}, "out_of_range"),
    ({"q": "a", "page": "two"}, "not_a_number"), ({"q": "a", "sort": "random"}, "not_a_choice"),
    ({"q": "a", "year_from": "abc"}, "bad_year"), ({"q": "a", "year_from": "2023", "year_to": "2020"}, "range_reversed"),
])
def test_parameter_errors_have_a_stable_code(args, code):
    with pytest.raises(QueryError) as error:
        query_from_args(args)
    assert error.value.code == code


def test_a_too_long_facet_value_names_its_parameter(client):
    with pytest.raises(QueryError) as error:
        query_from_args({"q": "a", "city": "阜" * 101})
    assert error.value.param == "city" and "city is too long: 101 characters" in str(error.value)
    assert client.get("/api/search?q=a&city=" + "阜" * 101).get_json()["error"]["parameter"] == "city"
    assert "城市太长：101 个字符" in client.get("/?q=a&city=" + "阜" * 101).get_data(as_text=True)
