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
    assert set(response.get_json()["paths"]) == {"/api/search", "/api/facets", "/api/articles/{id}", "/api/openapi.json"}


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
