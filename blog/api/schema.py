"""The OpenAPI 3.1 document of the API, written to match the views exactly."""

from __future__ import annotations

from typing import Any

from .. import storage

POST_ID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
MEMBER_ID = "^[a-z2-7]{24}$"
TAG = "^[a-z0-9]+(-[a-z0-9]+)*$"  # storage.TAG, with maxLength 30
# One character that Python's str.split() keeps, i.e. not only whitespace.
NOT_SPACE = ("[^\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680"
             "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]")
STRING = {"type": "string"}
PROBLEMS = {
    "400": ("BadRequest", "Malformed JSON, or a bad `limit`, `cursor`, `author` or "
                          "`tag`."),
    "401": ("Unauthorized", "No token, or one that is malformed, expired or not an "
                            "access token of an allowed client."),
    "403": ("Forbidden", "Not the author (or a moderator, to delete), or the token "
                         "lacks the write scope (`insufficient_scope`)."),
    "404": ("NotFound", "No post has this id."),
    "413": ("ContentTooLarge", "The body is over 1 MiB."),
    "415": ("UnsupportedMediaType", "The body is not `application/json`."),
    "422": ("UnprocessableContent", "The JSON does not match the request schema; "
                                    "`errors` names each bad field."),
    "503": ("ServiceUnavailable", "The posts or the signing keys cannot be reached "
                                  "right now; retry later."),
}
INVALID_TOKEN = {"WWW-Authenticate": {"required": True, "schema": {
    "type": "string", "const": 'Bearer error="invalid_token"'}}}


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def json_content(schema: str, media_type: str = "application/json") -> dict[str, Any]:
    return {media_type: {"schema": ref("schemas", schema)}}


def answers(*codes: str, **ok: Any) -> dict[str, Any]:
    """The success answers given plus the shared problem answers of `codes`."""
    return {**ok, **{code: ref("responses", PROBLEMS[code][0]) for code in codes}}


def text(limit: int, what: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": NOT_SPACE,
            "description": f"{what}, 1 to {limit:,} characters as sent and not only "
                           "whitespace; trimmed before it is stored."}


def document(write_scope: str | None, script_root: str = "") -> dict[str, Any]:
    """The document for this app: the write scope changes what writes need."""
    needs = f" The token needs the `{write_scope}` scope." if write_scope else ""
    write = [{"bearerAuth": [write_scope] if write_scope else []}]
    scope_403 = ["403"] if write_scope else []
    post = {"description": "The post.", "content": json_content("Post")}
    links = {f"{verb.title()}Post": {"operationId": f"{verb}Post",
                                     "parameters": {"post_id": "$response.body#/id"}}
             for verb in ("get", "update", "delete")}
    created = {"description": "Published.", "content": json_content("Post"),
               "headers": {"Location": {"required": True, "schema": STRING,
                                        "description": "The post's URL."}},
               "links": links}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Blog API", "version": "1.0.0", "description": (
            "The blog's posts for scripts and services. Send a Cognito **access** "
            "token of the blog's user pool as `Authorization: Bearer <token>`; ID "
            "tokens and session cookies are not accepted. Errors are RFC 9457 "
            "problem documents.")},
        "servers": [{"url": script_root or "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/posts": {
                "get": {"operationId": "listPosts", "summary": "Posts, newest first",
                        "description": "Published posts: all of them, or one "
                                       "author's (`author`), or those with a tag "
                                       "(`tag`), or both; or with `status=draft` the "
                                       "caller's own drafts (nobody else's: another "
                                       "`author` gives none).",
                        "parameters": [ref("parameters", "Cursor"),
                                       ref("parameters", "Limit"),
                                       ref("parameters", "Status"),
                                       ref("parameters", "Author"),
                                       ref("parameters", "Tag")],
                        "responses": answers("400", "401", "503", **{"200": {
                            "description": "A page of posts.",
                            "content": json_content("PostList")}})},
                "post": {"operationId": "createPost", "summary": "Publish a post",
                         "description": "The token's user is the author; with "
                                        "`status` `draft` only they can see it."
                                        + needs,
                         "security": write,
                         "requestBody": {"required": True,
                                         "content": json_content("NewPost")},
                         "responses": answers("400", "401", *scope_403, "413", "415",
                                              "422", "503", **{"201": created})},
            },
            "/api/posts/{post_id}": {
                "parameters": [ref("parameters", "PostId")],
                "get": {"operationId": "getPost", "summary": "One post",
                        "description": "Someone else's draft is 404, like no post.",
                        "responses": answers("401", "404", "503", **{"200": post})},
                "patch": {"operationId": "updatePost", "summary": "Edit a post",
                          "description": "The author only. `status` publishes a "
                                         "draft (setting `published_at`) or takes a "
                                         "post back to draft." + needs,
                          "security": write,
                          "requestBody": {"required": True,
                                          "content": json_content("PostChanges")},
                          "responses": answers("400", "401", "403", "404", "413", "415",
                                               "422", "503", **{"200": post})},
                "delete": {"operationId": "deletePost", "summary": "Delete a post",
                           "description": "The author or an admin." + needs,
                           "security": write,
                           "responses": answers("401", "403", "404", "503", **{
                               "204": {"description": "Deleted."}})},
            },
            "/api/openapi.json": {"get": {
                "operationId": "getOpenAPI", "summary": "This document", "security": [],
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {
                                          "schema": {"type": "object"}}}}}}},
        },
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS,
                       "responses": responses(), "securitySchemes": SECURITY},
    }


def responses() -> dict[str, Any]:
    """The problem answers, by name; a 401 always says `invalid_token`."""
    shared = {}
    for code, (name, description) in PROBLEMS.items():
        shared[name] = {"description": description,
                        "content": json_content("Problem", "application/problem+json")}
        if code == "401":
            shared[name]["headers"] = INVALID_TOKEN
    return shared


SECURITY = {"bearerAuth": {
    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
    "description": "A Cognito access token (`token_use` is `access`) issued to an "
                   "allowed app client of the blog's user pool."}}

PARAMETERS = {
    "PostId": {"name": "post_id", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": POST_ID},
               "description": "The post's `id`."},
    "Cursor": {"name": "cursor", "in": "query", "schema": {
        "type": "string", "format": "cursor", "pattern": "^[A-Za-z0-9_-]*$"},
        "description": "`next_cursor` of the page before (format `cursor`: only "
                       "values this API returned); absent or empty: the newest posts."},
    "Status": {"name": "status", "in": "query", "schema": {
        "type": "string", "enum": [storage.PUBLISHED, storage.DRAFT],
        "default": storage.PUBLISHED},
        "description": "`draft`: the caller's own drafts instead of published posts."},
    "Author": {"name": "author", "in": "query",
               "schema": {"type": "string", "pattern": f"^({MEMBER_ID[1:-1]})?$"},
               "description": "Only this member's posts: an `author.id`; empty: "
                              "anyone's."},
    "Tag": {"name": "tag", "in": "query",
            "schema": {"type": "string", "pattern": f"^({TAG[1:-1]})?$",
                       "maxLength": 30},
            "description": "Only posts with this tag; empty: any."},
    "Limit": {"name": "limit", "in": "query", "description": "Posts per page.",
              "schema": {"type": "integer", "minimum": 1, "maximum": 100,
                         "default": 20}},
}

STATUS = {"type": "string", "enum": [storage.DRAFT, storage.PUBLISHED],
          "description": "`draft`: only its author sees it; `published`: members do."}
POST = {
    "id": {"type": "string", "pattern": POST_ID},
    "title": {"type": "string", "maxLength": storage.TITLE_MAX,
              "description": "Empty only in a draft saved without one on the pages."},
    "body": {"type": "string", "maxLength": storage.BODY_MAX,
             "description": "Markdown; empty only in a draft saved on the pages."},
    "body_html": {"type": "string", "description": "The Markdown body as safe HTML."},
    "author": {"type": "object", "additionalProperties": False,
               "required": ["id", "name"], "properties": {
                   "id": {"type": "string", "pattern": MEMBER_ID,
                          "description": "The author's opaque member id."},
                   "name": {"type": "string", "minLength": 1,
                            "description": "The author's display name now."}}},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "status": STATUS,
    "published_at": {"type": ["string", "null"], "format": "date-time",
                     "description": "When it was last published; null for a draft."},
    "tags": {"type": "array", "maxItems": storage.TAGS_MAX, "uniqueItems": True,
             "items": {"type": "string", "pattern": TAG, "maxLength": 30}},
}
TAGS = {"type": "array", "maxItems": storage.TAGS_MAX, "uniqueItems": True,
        "items": {"type": "string", "pattern": TAG, "maxLength": 30},
        "description": f"At most {storage.TAGS_MAX}, each as stored: small letters, "
                       "digits and single hyphens between them (the pages tidy "
                       "what people type; the API takes tags as they are kept)."}
FIELD_ERROR = {
    "type": "object", "additionalProperties": False, "required": ["field", "message"],
    "properties": {"message": STRING, "field": {
        **STRING, "description": "A body member or query parameter; '' is the body."}},
}
SCHEMAS = {
    "Post": {"type": "object", "additionalProperties": False, "required": [*POST],
             "properties": POST},
    "PostList": {"type": "object", "additionalProperties": False,
                 "required": ["items", "next_cursor"], "properties": {
                     "items": {"type": "array", "items": ref("schemas", "Post")},
                     "next_cursor": {"type": ["string", "null"], "description":
                                     "`cursor` for the next page; null on the last."}}},
    "NewPost": {"type": "object", "additionalProperties": False,
                "required": ["title", "body"], "properties": {
                    "title": text(storage.TITLE_MAX, "The title"),
                    "body": text(storage.BODY_MAX, "The Markdown body"),
                    "tags": {**TAGS, "default": []},
                    "status": {**STATUS, "default": storage.PUBLISHED}}},
    "PostChanges": {"type": "object", "additionalProperties": False,
                    "minProperties": 1, "properties": {
                        "title": text(storage.TITLE_MAX, "The title"),
                        "body": text(storage.BODY_MAX, "The Markdown body"),
                        "tags": {**TAGS, "description": TAGS["description"]
                                 + " Replaces the post's tags."},
                        "status": STATUS}},
    "Problem": {"type": "object", "required": ["type", "title", "status", "detail"],
                "properties": {"type": {"type": "string", "format": "uri-reference"},
                               "title": STRING, "status": {"type": "integer"},
                               "detail": STRING,
                               "errors": {"type": "array", "items": FIELD_ERROR}}},
}
