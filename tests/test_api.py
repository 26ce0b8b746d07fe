"""The JSON API through the test client, with access tokens from the fake Cognito."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat
from flask.testing import FlaskClient

from blog import markdown
from blog.config import ConfigError
from blog.storage import member_id
from blog.tokens import LEEWAY
from tests.support.clients import access_claims
from tests.support.clients import bearer
from tests.support.fakeidp import CLIENT_ID
from tests.support.fakeidp import FakeIdP
from tests.support.fakeidp import new_key
from tests.support.fakeidp import public_jwk
from tests.support.storage import PostsUnavailable

UNKNOWN = "00000000-0000-4000-8000-000000000000"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def problem(response, status: int) -> dict:
    """Assert an RFC 9457 problem with `status`; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


def create(client, idp, username="alice", title="Hello", body="Some *text*"):
    response = client.post("/api/posts", json={"title": title, "body": body},
                           headers=bearer(idp, username))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# --- every verification rule has a token it refuses ---

def tampered(idp) -> str:
    header, payload, signature = idp.sign(access_claims(idp)).split(".")
    claims = {**access_claims(idp), "cognito:groups": ["admins"]}
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{forged}.{signature}"


def unsigned(idp) -> str:
    return jwt.encode(access_claims(idp), None, algorithm="none",
                      headers={"kid": idp.kid})


def hmac_with_public_key(idp) -> str:
    """HS256 keyed by our public key's PEM (key confusion)."""
    pem = idp.key.public_key().public_bytes(Encoding.PEM,
                                            PublicFormat.SubjectPublicKeyInfo)
    header = jwt.utils.base64url_encode(json.dumps(
        {"alg": "HS256", "typ": "JWT", "kid": idp.kid}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(access_claims(idp)).encode())
    signature = hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()
    return b".".join([header, payload, jwt.utils.base64url_encode(signature)]).decode()


BAD_TOKENS = {
    "id token": lambda idp: idp.id_token(),
    "id token with client_id": lambda idp: idp.id_token(client_id=CLIENT_ID),
    "access token marked id": lambda idp: idp.sign(access_claims(idp, token_use="id")),
    "other client": lambda idp: idp.sign(access_claims(idp, client_id="otherclient")),
    "no client_id": lambda idp: idp.sign(access_claims(idp, client_id=None)),
    "client_id a list": lambda idp: idp.sign(access_claims(idp, client_id=[CLIENT_ID])),
    "expired": lambda idp: idp.sign(access_claims(
        idp, iat=int(time.time()) - 7200, exp=int(time.time()) - LEEWAY - 1)),
    "no exp": lambda idp: idp.sign(access_claims(idp, exp=None)),
    "exp a string": lambda idp: idp.sign(access_claims(
        idp, exp=str(int(time.time()) + 3600))),
    "no iat": lambda idp: idp.sign(access_claims(idp, iat=None)),
    "iat in the future": lambda idp: idp.sign(access_claims(
        idp, iat=int(time.time()) + LEEWAY + 60)),
    "wrong issuer": lambda idp: idp.sign(access_claims(idp, iss=idp.url + "/other")),
    "bad signature": lambda idp: idp.sign(access_claims(idp), key=new_key()),
    "tampered claims": tampered,
    "alg none": unsigned,
    "hs256 with the public key": hmac_with_public_key,
    "rs512 with our key": lambda idp: idp.sign(access_claims(idp), algorithm="RS512"),
    "jwk in header": lambda idp: idp.sign(access_claims(idp), key=(key := new_key()),
                                          headers={"jwk": public_jwk(key, "x")}),
    "jku in header": lambda idp: idp.sign(access_claims(idp), headers={
        "jku": "https://attacker.example/jwks.json"}),
    "kid path": lambda idp: idp.sign(access_claims(idp), headers={"kid": "../../x"}),
    "100 KB": lambda idp: "a" * 100_000,
    "no kid": lambda idp: idp.sign(access_claims(idp), headers={"kid": None}),
    "no sub": lambda idp: idp.sign(access_claims(idp, sub=None)),
    "garbage": lambda idp: "not.a.jwt",
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_refused_token_gets_401_invalid_token(client, idp, make, caplog) -> None:
    token = make(idp)
    response = client.get("/api/posts", headers={"Authorization": f"Bearer {token}"})
    body = problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert token not in caplog.text and token not in json.dumps(body)


def test_valid_access_token_is_accepted(client, idp) -> None:
    response = client.get("/api/posts", headers=bearer(idp))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {"items": [], "next_cursor": None}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("value", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==",
                                   "Token {t}", "Bearer {t} {t}", "Bearer  {t}",
                                   "Bearer {t},Bearer {t}", "{t}"])
def test_malformed_authorization_header_gets_401(client, idp, value) -> None:
    token = idp.sign(access_claims(idp))
    headers = {} if value is None else {"Authorization": value.format(t=token)}
    response = client.get("/api/posts", headers=headers)
    problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_two_authorization_headers_get_401(client, idp) -> None:
    value = bearer(idp)["Authorization"]
    response = client.get("/api/posts", headers=[("Authorization", value)] * 2)
    problem(response, 401)


def test_scheme_is_case_insensitive(client, idp) -> None:
    token = idp.sign(access_claims(idp))
    assert client.get("/api/posts", headers={
        "Authorization": f"bearer {token}"}).status_code == 200


def test_token_elsewhere_than_the_header_is_ignored(client, idp) -> None:
    token = idp.sign(access_claims(idp))
    client.set_cookie("access_token", token)
    problem(client.get(f"/api/posts?access_token={token}"), 401)


def test_browser_session_is_not_accepted(client, auth, idp) -> None:
    auth.login("alice")
    assert client.get("/posts/").status_code == 200  # the session itself is good
    problem(client.get("/api/posts"), 401)
    response = client.post("/api/posts", json={"title": "t", "body": "b"},
                           headers={"Origin": "https://blog.example"})
    problem(response, 401)


# --- write scope and allowed clients ---

@pytest.fixture
def scoped(make_app) -> FlaskClient:
    return make_app(API_WRITE_SCOPE="blog/write").test_client()


@pytest.mark.parametrize("method,path", [("post", "/api/posts"),
                                         ("patch", f"/api/posts/{UNKNOWN}"),
                                         ("delete", f"/api/posts/{UNKNOWN}")])
@pytest.mark.parametrize("scope", [None, "openid email", "blog/writer", ["blog/write"]])
def test_write_without_scope_gets_403(scoped, idp, method, path, scope) -> None:
    response = getattr(scoped, method)(path, json={"title": "t", "body": "b"},
                                       headers=bearer(idp, scope=scope))
    problem(response, 403)
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="blog/write"')


def test_write_with_scope_and_read_without(scoped, idp) -> None:
    response = scoped.post("/api/posts", json={"title": "t", "body": "b"},
                           headers=bearer(idp, scope="openid blog/write"))
    assert response.status_code == 201
    assert scoped.get("/api/posts", headers=bearer(idp, scope=None)).status_code == 200
    doc = scoped.get("/api/openapi.json").get_json()
    assert doc["paths"]["/api/posts"]["post"]["security"] == [
        {"bearerAuth": ["blog/write"]}]
    assert "403" in doc["paths"]["/api/posts"]["post"]["responses"]


def test_without_write_scope_setting_post_has_no_403(client) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert "403" not in doc["paths"]["/api/posts"]["post"]["responses"]


@pytest.mark.parametrize("setting", ["web,cli", '["web", "cli"]', ["web", "cli"]])
def test_allowed_clients_replace_the_blogs_own(idp, make_app, monkeypatch,
                                               setting) -> None:
    if isinstance(setting, str):
        monkeypatch.setenv("BLOG_API_CLIENT_IDS", setting)
        client = make_app().test_client()
    else:
        client = make_app(API_CLIENT_IDS=setting).test_client()
    for client_id, status in (("cli", 200), ("web", 200), (CLIENT_ID, 401)):
        response = client.get("/api/posts", headers=bearer(idp, client_id=client_id))
        assert response.status_code == status, client_id


@pytest.mark.parametrize("name,value", [("API_CLIENT_IDS", {"a": 1}),
                                        ("API_CLIENT_IDS", [["a"]]),
                                        ("API_WRITE_SCOPE", "two scopes")])
def test_bad_api_settings_stop_start_up(make_app, name, value) -> None:
    with pytest.raises(ConfigError, match=f"BLOG_{name}"):
        make_app(**{name: value})


def test_keys_unreachable_gets_503(idp, make_app) -> None:
    client = make_app(COGNITO_METADATA_URL=(
        "http://127.0.0.1:9/pool/.well-known/openid-configuration")).test_client()
    problem(client.get("/api/posts", headers=bearer(idp)), 503)


def test_jwks_unreachable_gets_503_not_401(client, idp) -> None:
    idp.jwks_status = 500
    problem(client.get("/api/posts", headers=bearer(idp)), 503)


# --- posts: create, read, edit, delete, permissions ---

def test_create_answers_201_with_location_and_the_post(client, idp) -> None:
    response = client.post("/api/posts", headers=bearer(idp, "alice"), json={
        "title": "  Hello   world ", "body": "\r\n\nSome *text*\r\n  "})
    assert response.status_code == 201 and response.mimetype == "application/json"
    post = response.get_json()
    assert response.headers["Location"] == f"/api/posts/{post['id']}"
    assert post["title"] == "Hello world" and post["body"] == "Some *text*"
    assert post["body_html"] == "<p>Some <em>text</em></p>\n"
    # No member record and no name in the token: never its `username` or `sub`.
    assert post["author"] == {"id": member_id(idp.issuer, "sub-alice"),
                              "name": "Member"}
    assert RFC3339.fullmatch(post["created_at"])
    assert RFC3339.fullmatch(post["updated_at"])
    again = client.get(response.headers["Location"], headers=bearer(idp, "bob"))
    assert again.status_code == 200 and again.get_json() == post


def test_author_name_falls_back_to_member(client, idp) -> None:
    token = idp.sign({**access_claims(idp, "carol"), "username": None})
    response = client.post("/api/posts", json={"title": "t", "body": "b"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["author"] == {"id": member_id(idp.issuer, "sub-carol"),
                                             "name": "Member"}


def test_author_edits_one_field_or_both(client, idp) -> None:
    post = create(client, idp, "alice", title="Old", body="Old body")
    path, headers = f"/api/posts/{post['id']}", bearer(idp, "alice")
    edited = client.patch(path, json={"title": " New "}, headers=headers).get_json()
    assert (edited["title"], edited["body"]) == ("New", "Old body")
    edited = client.patch(path, json={"body": "*b*", "title": "T"}, headers=headers)
    assert edited.status_code == 200
    assert client.get(path, headers=headers).get_json() == edited.get_json()
    assert edited.get_json()["body_html"] == "<p><em>b</em></p>\n"


@pytest.mark.parametrize("groups", [None, ["editors"], "admins"])
def test_others_may_neither_edit_nor_delete(client, idp, groups) -> None:
    post = create(client, idp, "alice")
    path, headers = f"/api/posts/{post['id']}", bearer(idp, "bob", **{
        "cognito:groups": groups})
    problem(client.patch(path, json={"title": "Mine"}, headers=headers), 403)
    problem(client.delete(path, headers=headers), 403)
    assert client.get(path, headers=headers).get_json() == post


@pytest.mark.parametrize("username,groups", [("alice", None), ("mod", ["x", "admins"])])
def test_author_or_admin_deletes(client, idp, username, groups) -> None:
    post = create(client, idp, "alice")
    path, headers = f"/api/posts/{post['id']}", bearer(idp, username, **{
        "cognito:groups": groups})
    response = client.delete(path, headers=headers)
    assert response.status_code == 204 and response.data == b""
    problem(client.get(path, headers=headers), 404)
    problem(client.delete(path, headers=headers), 404)


def test_admin_group_comes_from_settings(idp, make_app) -> None:
    client = make_app(ADMIN_GROUP="moderators").test_client()
    post = create(client, idp, "alice")
    path = f"/api/posts/{post['id']}"
    problem(client.delete(path, headers=bearer(idp, "b", **{
        "cognito:groups": ["admins"]})), 403)
    assert client.delete(path, headers=bearer(idp, "c", **{
        "cognito:groups": ["moderators"]})).status_code == 204


@pytest.mark.parametrize("post_id", [UNKNOWN, UNKNOWN.upper(), "abc", "1" * 300])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_or_malformed_id_gets_404(client, idp, post_id, method) -> None:
    response = getattr(client, method)(f"/api/posts/{post_id}", headers=bearer(idp),
                                       json={"title": "t"})
    problem(response, 404)


def test_every_route_needs_a_token_but_the_document(client, idp) -> None:
    post = create(client, idp)
    for method, path in [("get", "/api/posts"), ("post", "/api/posts"),
                         ("get", f"/api/posts/{post['id']}"),
                         ("patch", f"/api/posts/{post['id']}"),
                         ("delete", f"/api/posts/{post['id']}")]:
        problem(getattr(client, method)(path, json={"title": "x"}), 401)
    assert client.get("/api/openapi.json").status_code == 200


# --- pagination ---

def test_pages_follow_next_cursor_newest_first(client, idp) -> None:
    ids = [create(client, idp, title=f"Post {n}")["id"] for n in range(5)]
    seen, cursor = [], None
    for expected in (2, 2, 1):
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get("/api/posts" + query, headers=bearer(idp)).get_json()
        assert len(page["items"]) == expected
        seen += [post["id"] for post in page["items"]]
        cursor = page["next_cursor"]
    assert cursor is None and seen == ids[::-1]


def test_default_page_is_twenty(client, idp) -> None:
    for n in range(21):
        create(client, idp, title=f"Post {n}")
    page = client.get("/api/posts", headers=bearer(idp)).get_json()
    assert len(page["items"]) == 20 and page["next_cursor"]
    assert client.get("/api/posts?limit=100&cursor=",
                      headers=bearer(idp)).get_json()["next_cursor"] is None


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"),
    ("limit=abc", "limit"), ("limit=1.5", "limit"), ("limit=", "limit"),
    ("limit=%EF%BC%91", "limit"), ("cursor=abc", "cursor"), ("cursor=W10", "cursor"),
    ("cursor=WzEsIngiXQ", "cursor")])
def test_bad_limit_or_cursor_gets_400(client, idp, query, field) -> None:
    body = problem(client.get(f"/api/posts?{query}", headers=bearer(idp)), 400)
    assert [error["field"] for error in body["errors"]] == [field]


# --- request bodies ---

BAD_BODIES = {
    "missing title": ({"body": "b"}, [("title", "'title' is required.")]),
    "missing both": ({}, [("title", "'title' is required."),
                          ("body", "'body' is required.")]),
    "title a number": ({"title": 5, "body": "b"}, [("title", "Must be a string, not a "
                                                             "number.")]),
    "body null": ({"title": "t", "body": None}, [("body", "Must be a string, not "
                                                          "null.")]),
    "title a list": ({"title": ["t"], "body": "b"}, [("title", "Must be a string, not "
                                                               "an array.")]),
    "title too long": ({"title": "x" * 201, "body": "b"}, [(
        "title", "Must be at most 200 characters (it has 201).")]),
    "body too long": ({"title": "t", "body": "x" * 50_001}, [(
        "body", "Must be at most 50,000 characters (it has 50,001).")]),
    "title blank": ({"title": " \t\u3000", "body": "b"}, [(
        "title", "Must contain at least one character that is not whitespace.")]),
    "body empty": ({"title": "t", "body": ""}, [(
        "body", "Must contain at least one character that is not whitespace.")]),
    "lone surrogate": ({"title": "\ud800", "body": "b"}, [(
        "title", "Must be valid Unicode text (it holds an unpaired surrogate).")]),
    "unknown field": ({"title": "t", "body": "b", "author": "x"}, [(
        "author",
        "Unknown field: only 'title', 'body', 'tags' and 'status' are accepted.")]),
    "unknown status": ({"title": "t", "body": "b", "status": "public"}, [(
        "status", "Must be 'draft' or 'published'.")]),
    "an array": ([], [("", "Must be a JSON object, not an array.")]),
    "a string": ("t", [("", "Must be a JSON object, not a string.")]),
}


@pytest.mark.parametrize("data,errors", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_new_post_gets_422_naming_each_field(client, idp, data, errors) -> None:
    response = client.post("/api/posts", headers=bearer(idp), data=json.dumps(data),
                           content_type="application/json")
    body = problem(response, 422)
    assert [(e["field"], e["message"]) for e in body["errors"]] == errors
    assert client.get("/api/posts", headers=bearer(idp)).get_json()["items"] == []


@pytest.mark.parametrize("data,errors", [
    ({}, [("", "Send 'title', 'body', 'tags', 'status' or any of them.")]),
    ({"title": "t", "id": UNKNOWN}, [("id", "Unknown field: only 'title', 'body', "
                                            "'tags' and 'status' are accepted.")]),
    ({"body": 1}, [("body", "Must be a string, not a number.")])])
def test_bad_edit_gets_422_and_changes_nothing(client, idp, data, errors) -> None:
    post = create(client, idp)
    path = f"/api/posts/{post['id']}"
    body = problem(client.patch(path, json=data, headers=bearer(idp)), 422)
    assert [(e["field"], e["message"]) for e in body["errors"]] == errors
    assert client.get(path, headers=bearer(idp)).get_json() == post


@pytest.mark.parametrize("data,content_type,status", [
    ('{"title": "t", "body": "b"}', "text/plain", 415),
    ("title=t&body=b", "application/x-www-form-urlencoded", 415),
    ('{"title": "t", "body": "b"}', None, 415),
    ('{"title": "t", "body": "b"}', "application/problem+json", 415),
    ('{"title": "t", "body": ', "application/json", 400),
    ("", "application/json", 400),
    ('{"title": "t", "body": NaN}', "application/json", 400),
    (b'{"title": "\xff", "body": "b"}', "application/json", 400),
    ("[" * 100_000, "application/json", 400)])
@pytest.mark.parametrize("method", ["post", "patch"])
def test_body_that_is_not_a_json_object_is_refused(client, idp, data, content_type,
                                                   status, method) -> None:
    post = create(client, idp)
    path = "/api/posts" if method == "post" else f"/api/posts/{post['id']}"
    response = getattr(client, method)(path, data=data, content_type=content_type,
                                       headers=bearer(idp))
    problem(response, status)


def test_charset_parameter_is_fine(client, idp) -> None:
    response = client.post("/api/posts", headers=bearer(idp), data=json.dumps(
        {"title": "Été", "body": "b"}), content_type="application/json; charset=utf-8")
    assert response.status_code == 201 and response.get_json()["title"] == "Été"


def test_body_over_the_size_limit_gets_413(client, idp) -> None:
    data = json.dumps({"title": "t", "body": "x" * (1024 * 1024)})
    response = client.post("/api/posts", data=data, content_type="application/json",
                           headers=bearer(idp))
    problem(response, 413)


# --- errors outside the views, and the site around the API ---

def test_unknown_api_path_and_method_are_problems(client, idp) -> None:
    for path in ("/api", "/api/", "/api/x", "/api/posts/", f"/api/posts/{UNKNOWN}/x"):
        problem(client.get(path, headers=bearer(idp)), 404)
    response = client.put("/api/posts", headers=bearer(idp), json={})
    problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    problem(client.post("/api/openapi.json"), 405)


def test_pages_keep_their_html_errors(client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_store_unavailable_gets_503(client, idp, monkeypatch) -> None:
    def unavailable():
        raise PostsUnavailable()

    monkeypatch.setattr("blog.api.views.get_store", unavailable)
    problem(client.get("/api/posts", headers=bearer(idp)), 503)
    problem(client.post("/api/posts", headers=bearer(idp),
                        json={"title": "t", "body": "b"}), 503)


def test_openapi_document_names_every_route(client) -> None:
    response = client.get("/api/openapi.json")
    doc = response.get_json()
    assert response.status_code == 200 and doc["openapi"] == "3.1.0"
    assert {(path, method) for path, item in doc["paths"].items() for method in item
            if method != "parameters"} == {
        ("/api/posts", "get"), ("/api/posts", "post"), ("/api/posts/{post_id}", "get"),
        ("/api/posts/{post_id}", "patch"), ("/api/posts/{post_id}", "delete"),
        ("/api/openapi.json", "get")}
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_api_token_command_refuses_outside_local_mode(app) -> None:
    result = app.test_cli_runner().invoke(args=["api-token", "alice", "--password",
                                                "x"])
    assert result.exit_code == 1 and "only in local mode" in result.output


# --- issue 11, items 5 and 8a ---

def test_same_sub_from_another_issuer_may_neither_edit_nor_delete(client, idp,
                                                                  make_app) -> None:
    post = create(client, idp, "alice")
    other_pool = FakeIdP()  # an app of another user pool on the same posts
    try:
        other = make_app(pool=other_pool).test_client()
        path, headers = f"/api/posts/{post['id']}", bearer(other_pool, "alice")
        problem(other.patch(path, json={"title": "Mine"}, headers=headers), 403)
        problem(other.delete(path, headers=headers), 403)
        assert other.get(path, headers=headers).get_json() == post
    finally:
        other_pool.close()


def test_reads_never_parse_markdown(client, idp, monkeypatch) -> None:
    post = create(client, idp, body="# Hi\n\n*there*")
    monkeypatch.setattr(markdown.PARSER, "parse", lambda *args: 1 / 0)
    one = client.get(f"/api/posts/{post['id']}", headers=bearer(idp))
    assert one.status_code == 200 and one.get_json() == post
    assert post["body_html"] == "<h1>Hi</h1>\n<p><em>there</em></p>\n"
    page = client.get("/api/posts?limit=100", headers=bearer(idp))
    assert page.status_code == 200 and page.get_json()["items"] == [post]


@pytest.mark.parametrize("method", ["post", "patch"])
def test_body_too_slow_to_format_gets_422_on_the_body(client, idp, method) -> None:
    post = create(client, idp)
    path = "/api/posts" if method == "post" else f"/api/posts/{post['id']}"
    response = getattr(client, method)(path, headers=bearer(idp), json={
        "title": "T", "body": "![" * 25_000})
    [error] = problem(response, 422)["errors"]
    assert error["field"] == "body"
    assert error["message"].startswith("This body cannot be published. Its Markdown "
                                       "takes too long to format")
    assert client.get("/api/posts", headers=bearer(idp)).get_json()["items"] == [post]
