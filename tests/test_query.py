import pytest

from searchapp.query import AndNode, FieldNode, NotNode, OrNode, QueryError, Range, TermNode, parse, to_text


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
        FieldNode("year", Range(2020, 2023)), FieldNode("city", "阜新"), FieldNode("district", "细河区")))


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


@pytest.mark.parametrize("text", [
    "阜新 招商", "阜新 OR 铁岭", "-铁岭 阜新", "NOT 铁岭", "(阜新 OR 铁岭) 招商", '"细河区 文明"',
    "year:2020..2023 city:阜新市 district:細河", "year:..2020", 'title:"开门 红"', '"OR" 阜新', '"a-b" "x:y"',
    "(阜新 OR (铁岭 招商)) -(文明 OR 城市)", "“a「营商环境”", "“a」b”", 'title:"x『y"',
])
def test_to_text_gives_back_the_same_tree(text):
    tree = parse(text)
    assert parse(to_text(tree)) == tree


def test_a_range_parses_once_into_a_typed_value():
    assert Range.parse("2021") == Range(2021, 2021) and str(Range(2021, 2021)) == "2021"
    assert Range.parse("2020..") == Range(2020, None) and 2030 in Range(2020, None)
    assert Range.parse("..2020") == Range(None, 2020) and 2021 not in Range(None, 2020)


def test_corner_brackets_quote_like_quotation_marks():
    assert parse("「细河区 文明」") == parse('"细河区 文明"') == TermNode("细河区文明", True)
    assert parse("『营商环境』 招商") == AndNode((TermNode("营商环境", True), TermNode("招商", False)))
    assert parse("阜新「铁岭」") == AndNode((TermNode("阜新", False), TermNode("铁岭", True)))
    assert parse("title:「开门 红」") == FieldNode("title", "开门红", exact=True)
    assert parse("「引用“阜新”」") == TermNode("引用“阜新”", True)  # other quotes inside are text


@pytest.mark.parametrize("text, code", [
    ("「细河", "unclosed_quote"), ("『细河」", "unclosed_quote"), ("(阜新", "unclosed_parenthesis"),
    ("阜新)", "unopened_parenthesis"), ("阜新 OR", "missing_operand"), ("foo:bar", "unknown_field"),
    ("year:20x1", "bad_year"), ('""', "empty_quotes"), ("AND", "empty_query"),
])
def test_errors_have_a_stable_code(text, code):
    with pytest.raises(QueryError) as error:
        parse(text)
    assert error.value.code == code
