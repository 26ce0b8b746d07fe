"""GET /api/docs: the OpenAPI document as a public page (blog/api/reference.py).

The oracle is the document itself: every operation, parameter, body field and schema it
holds must be on the page, so an operation added without docs fails here.
docs/SECURITY.md: Browser hardening (same CSP, nothing loaded from elsewhere).
"""

from __future__ import annotations

import copy
from html.parser import HTMLParser

import pytest

from blog import create_app
from blog.api import schema
from blog.api.token_command import api_token

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


class Page(HTMLParser):
    """A page's text per `<section id>`, the first cell of each table row in it,
    and every src/href attribute of link, script and img elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.first_cells: dict[str, list[str]] = {}
        self.loads: list[str] = []
        self.tags: set[str] = set()
        self.styled = False
        self.section = ""
        self.cell: list[str] | None = None
        self.cells_in_row = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        self.styled |= "style" in attrs
        if tag in ("link", "script", "img"):
            self.loads += [attrs[name] for name in ("src", "href") if name in attrs]
        if tag == "section" and "id" in attrs:
            self.section = attrs["id"]
            self.sections[self.section], self.first_cells[self.section] = "", []
        elif tag == "tr":
            self.cells_in_row = 0
        elif tag in ("td", "th"):
            self.cells_in_row += 1
            self.cell = [] if self.cells_in_row == 1 else None

    def handle_endtag(self, tag):
        if tag == "section":
            self.section = ""
        elif tag in ("td", "th") and self.cell is not None:
            if self.section:
                self.first_cells[self.section].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.section:
            self.sections[self.section] += data
        if self.cell is not None:
            self.cell.append(data)

    def text(self, section: str) -> str:
        return " ".join(self.sections[section].split())


def resolve(doc: dict, item: dict) -> dict:
    """`item` with its `$ref`s followed."""
    while "$ref" in item:
        target = doc
        for key in item["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        item = target
    return item


def operations(doc: dict):
    """(method, path, operation, parameter names) of every operation in `doc`."""
    for path, path_item in doc["paths"].items():
        for method in (m for m in path_item if m in METHODS):
            op = path_item[method]
            params = [*path_item.get("parameters", ()), *op.get("parameters", ())]
            yield method, path, op, {resolve(doc, p)["name"] for p in params}


def operation_section(page: Page, method: str, path: str) -> str:
    """The id of the one section whose text starts with `METHOD path`."""
    heading = f"{method.upper()} {path} "
    found = [id_ for id_ in page.sections if page.text(id_).startswith(heading)]
    assert len(found) == 1, (heading, found)
    return found[0]


@pytest.fixture
def docs(client):
    """The served page, parsed, and the document /api/openapi.json serves beside it."""
    response = client.get("/api/docs")
    assert response.status_code == 200
    return Page(response.get_data(as_text=True)), client.get("/api/openapi.json").json


def test_public_html_without_token_cookie_or_new_session(app):
    client = app.test_client()
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers.getlist("Set-Cookie") == []
    assert "<title>API · Blog</title>" in response.get_data(as_text=True)
    assert not client.get_cookie("__Host-session", domain="blog.example")


def test_members_see_it_in_their_own_layout(auth, client):
    auth.login(username="carol")
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    assert "carol" in html and "Log out" in html and "<h1>Blog API</h1>" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_same_security_headers_as_the_other_pages(client):
    docs, landing = client.get("/api/docs").headers, client.get("/").headers
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                 "Referrer-Policy"):
        assert docs[name] == landing[name]
    assert "'unsafe-inline'" not in docs["Content-Security-Policy"]


def test_loads_nothing_from_elsewhere_and_needs_no_script(docs):
    page, _ = docs
    assert page.loads and all(
        url.startswith("/") and not url.startswith("//") for url in page.loads)
    assert "script" not in page.tags and "style" not in page.tags and not page.styled


def test_every_operation_with_its_parameters_is_on_the_page(docs):
    page, doc = docs
    listed = list(operations(doc))
    assert len(listed) >= 6
    for method, path, op, parameters in listed:
        section = operation_section(page, method, path)
        text = page.text(section)
        assert op.get("summary", "") in text
        assert parameters <= set(page.first_cells[section]), (method, path)
        for code in op["responses"]:
            assert f" {code} " in f" {text} "


def test_request_bodies_and_schemas_are_tables_of_their_fields(docs):
    page, doc = docs
    for method, path, op, _ in operations(doc):
        if "requestBody" not in op:
            continue
        body = resolve(doc, op["requestBody"])["content"]["application/json"]["schema"]
        fields = set(resolve(doc, body)["properties"])
        assert fields <= set(page.first_cells[operation_section(page, method, path)])
    for name, schema_ in doc["components"]["schemas"].items():
        cells = page.first_cells[f"schema-{name}"]
        assert set(schema_.get("properties", {})) <= set(cells), name
    assert {"author.id", "author.name"} <= set(page.first_cells["schema-Post"])


def test_renders_what_the_document_will_hold(client, monkeypatch):
    """New parameters, fields and operations appear without touching the page."""
    served = schema.document

    def grown(*args, **kwargs):
        doc = copy.deepcopy(served(*args, **kwargs))
        doc["paths"]["/api/posts"]["get"]["parameters"].append(
            {"name": "tag", "in": "query", "description": "Posts with this tag.",
             "schema": {"type": "string", "maxLength": 40}})
        doc["components"]["schemas"]["Post"]["properties"]["tags"] = {
            "type": "array", "items": {"type": "string"}, "description": "Its tags."}
        doc["paths"]["/api/tags"] = {"get": {"summary": "Every tag", "responses": {
            "200": {"description": "The tags."}}}}
        return doc

    monkeypatch.setattr(schema, "document", grown)
    page = Page(client.get("/api/docs").get_data(as_text=True))
    listing = page.text(operation_section(page, "get", "/api/posts"))
    assert "tag" in page.first_cells["listPosts"] and "Posts with this tag." in listing
    assert "max. length 40" in listing
    assert "tags" in page.first_cells["schema-Post"]
    assert "array of string" in page.text("schema-Post")
    assert "Every tag" in page.text(operation_section(page, "get", "/api/tags"))


def test_operations_show_the_scope_they_need(make_app):
    client = make_app(API_WRITE_SCOPE="blog/write").test_client()
    page = Page(client.get("/api/docs").get_data(as_text=True))
    for section in ("createPost", "updatePost", "deletePost"):
        assert "Scope blog/write" in page.text(section)
    assert "Scope none needed" in page.text("listPosts")
    assert "Token none: public" in page.text("getOpenAPI")


def test_table_of_contents_links_every_operation_and_schema(client, docs):
    page, doc = docs
    html = client.get("/api/docs").get_data(as_text=True)
    for method, path, _, _ in operations(doc):
        assert f'href="#{operation_section(page, method, path)}"' in html
    for name in doc["components"]["schemas"]:
        assert f'href="#schema-{name}"' in html
    assert 'href="/api/openapi.json"' in html


def test_token_section_shows_the_real_command(client):
    html = client.get("/api/docs").get_data(as_text=True)
    options = {option.name: option for option in api_token.params}
    command = (f"flask --app blog {api_token.name} you@example.com "
               f"--url {options['url'].default}")
    assert "url" in options and "password" in options
    assert command in html and "--password" in html
    assert "aws cognito-idp initiate-auth" in html and "BLOG_API_CLIENT_IDS" in html
    assert ('curl -H "Authorization: Bearer $TOKEN" https://blog.example/api/posts'
            in html)


def test_in_local_mode_the_command_names_this_server(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True})
    html = app.test_client().get("/api/docs").get_data(as_text=True)
    assert "This server runs in local mode." in html
    assert f"{api_token.name} you@example.com --url http://localhost)" in html
