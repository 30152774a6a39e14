"""The JSON API through Flask's test client, checked against its own OpenAPI document."""

import jsonschema
import pytest
from openapi_spec_validator import validate

from searchapp.web.openapi import openapi_document


def schema_for(name):
    document = openapi_document()
    return {"$ref": f"#/components/schemas/{name}", "components": document["components"]}


def check(data, name):
    jsonschema.validate(data, schema_for(name))


def test_openapi_document_is_valid(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    validate(response.get_json())
    assert set(response.get_json()["paths"]) == {"/api/search", "/api/facets", "/api/articles/{id}", "/api/openapi.json",
                                                 "/api/articles/{id}/cite", "/api/export", "/api/kwic", "/api/trends",
                                                 "/api/browse", "/api/browse/{paper}", "/api/browse/{paper}/{year}",
                                                 "/api/browse/{paper}/{year}/{month}",
                                                 "/api/browse/{paper}/{year}/{month}/{day}",
                                                 "/api/browse/{paper}/{year}/{month}/{day}/{page}"}


def test_search_response_matches_the_schema(client):
    response = client.get("/api/search?q=发展&district=海州区&district=细河区&year=2010..2030&sort=date&per_page=5&page=2")
    assert response.status_code == 200 and response.is_json
    data = response.get_json()
    check(data, "SearchResult")
    assert data["page"] == 2 and data["per_page"] == 5 and data["filters"]["district"] == ["海州区", "细河区"]
    assert all(set(h["districts"]) & {"海州区", "细河区"} for h in data["hits"])


def test_search_by_filters_only(client):
    data = client.get("/api/search?city=沈阳").get_json()
    check(data, "SearchResult")
    assert data["total"] > 0 and all(h["city"] == "沈阳" for h in data["hits"])


def test_facets_and_article_match_the_schema(client):
    facets = client.get("/api/facets").get_json()
    check(facets, "FacetsResult")
    hit = client.get("/api/search?q=发展").get_json()["hits"][0]
    article = client.get(f"/api/articles/{hit['id']}?q=发展")
    assert article.status_code == 200
    check(article.get_json(), "Article")
    assert any("<mark>发展</mark>" in p for p in article.get_json()["paragraphs"])


@pytest.mark.parametrize("url, parameter", [
    ("/api/search", "q"),
    ("/api/search?q=" + "阜" * 501, "q"),
    ("/api/search?q=阜新&per_page=101", "per_page"),
    ("/api/search?q=阜新&page=0", "page"),
    ("/api/search?q=阜新&page=abc", "page"),
    ("/api/search?q=阜新&sort=best", "sort"),
    ("/api/search?q=阜新&year=20x1", "year"),
    ("/api/search?q=阜新&year_from=2023&year_to=2020", "year_from"),
    ("/api/search?q=(阜新", "q"),
    ("/api/search?q=foo:bar", "q"),
    ("/api/search?q=阜新&colour=red", "colour"),
    ("/api/facets?year=abc", "year"),
])
def test_bad_parameters_are_400_with_the_parameter_named(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 400
    check(response.get_json(), "Error")
    assert response.get_json()["error"]["parameter"] == parameter


@pytest.mark.parametrize("url", ["/api/articles/no-such-id", "/api/nothing", "/api/articles/../../etc/passwd"])
def test_unknown_ids_and_routes_are_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404 and response.is_json
    check(response.get_json(), "Error")


def test_wrong_method_is_json_405(client):
    response = client.post("/api/search?q=阜新")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"


def test_xss_in_the_query_comes_back_as_data(client):
    q = "<img src=x onerror=alert(1)><script>alert(1)</script>"
    response = client.get("/api/search", query_string={"q": q})
    assert response.mimetype == "application/json"
    assert response.get_json()["query"] == q  # data in JSON; whoever displays it escapes it
    unbalanced = client.get("/api/search", query_string={"q": '"><img src=x onerror=alert(1)>'})
    assert unbalanced.status_code == 400 and unbalanced.mimetype == "application/json"
    result = client.get("/api/search", query_string={"q": "测试页面包含"}).get_json()
    snippet = " ".join(result["hits"][0]["snippets"])
    assert "<script>" not in snippet and "<img" not in snippet


def test_missing_index_is_503(tmp_path):
    from searchapp.web import create_app
    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    response = client.get("/api/search?q=阜新")
    assert response.status_code == 503 and "newsearch index" in response.get_json()["error"]["message"]
    assert client.get("/").status_code == 503


def test_errors_carry_a_stable_reason(client):
    error = client.get("/api/search?q=(阜新").get_json()
    check(error, "Error")
    assert error["error"]["code"] == "bad_parameter" and error["error"]["reason"] == "unclosed_parenthesis"
    assert "unbalanced parenthesis" in error["error"]["message"]  # the message stays English
    unknown = client.get("/api/search?q=阜新&colour=red").get_json()["error"]
    assert unknown["reason"] == "unknown_parameter" and unknown["parameter"] == "colour"


@pytest.mark.parametrize("value, accepted", [
    ("2021", True), ("2020..2023", True), ("2020..", True), ("..2023", True),
    ("..", False), ("20x1", False), ("12021", False), ("2021.", False), ("2020...2023", False), ("21", False),
])
def test_the_documented_year_pattern_is_what_the_server_accepts(client, value, accepted):
    import re
    document = openapi_document()
    year = next(p for p in document["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "year")
    assert bool(re.search(year["schema"]["items"]["pattern"], value)) == accepted
    assert (client.get("/api/search", query_string={"year": value}).status_code == 200) == accepted


@pytest.mark.parametrize("method, url, path, status", [
    ("get", "/api/search?q=阜新", "/api/search", 200),
    ("get", "/api/search?q=(阜新", "/api/search", 400),
    ("post", "/api/search?q=阜新", "/api/search", 405),
    ("get", "/api/facets?year=2021", "/api/facets", 200),
    ("get", "/api/facets?year=x", "/api/facets", 400),
    ("put", "/api/facets", "/api/facets", 405),
    ("get", "/api/articles/rec-001", "/api/articles/{id}", 200),
    ("get", "/api/articles/rec-001?q=" + "阜" * 501, "/api/articles/{id}", 400),
    ("get", "/api/articles/rec-001?colour=red", "/api/articles/{id}", 400),
    ("get", "/api/articles/nope", "/api/articles/{id}", 404),
    ("delete", "/api/articles/rec-001", "/api/articles/{id}", 405),
    ("post", "/api/openapi.json", "/api/openapi.json", 405),
])
def test_every_status_returned_is_documented_with_its_schema(client, method, url, path, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    documented = openapi_document()["paths"][path]["get"]["responses"]
    assert str(status) in documented
    schema = documented[str(status)]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        check(response.get_json(), schema["$ref"].rsplit("/", 1)[1])
    if status == 405:
        assert "Allow" in documented["405"]["headers"] and "GET" in response.headers["Allow"]


def test_503_is_documented_for_every_operation_that_reads_the_index():
    paths = openapi_document()["paths"]
    for path in ("/api/search", "/api/facets", "/api/articles/{id}"):
        assert {"400", "405", "503"} <= set(paths[path]["get"]["responses"])
    assert "404" in paths["/api/articles/{id}"]["get"]["responses"]


def test_hits_carry_the_paper_and_page_when_known(client):
    data = client.get("/api/search?q=第0号测试版面").get_json()
    check(data, "SearchResult")
    first = next(h for h in data["hits"] if h["id"] == "pages~page_000-01")
    assert first["paper"] == "辽宁日报" and first["page_label"] == "第3版"
    assert all("page_label" not in h for h in data["hits"] if h["id"] != "pages~page_000-01")
