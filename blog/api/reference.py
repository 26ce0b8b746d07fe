"""`GET /api/docs`: the OpenAPI document as a page (templates/api/docs.html).

The template loops over whatever the document holds; this module only follows `$ref`s
and flattens schemas into rows, so the page and /api/openapi.json cannot drift.
Imported by the view on first use: it brings the Markdown parser (not at start-up).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app
from flask import render_template
from markupsafe import Markup
from werkzeug.http import HTTP_STATUS_CODES

from ..markdown import render
from .token_command import api_token

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
# Schema keywords shown as rules, in this order: (keyword, wording).
RULES = (
    ("enum", "one of {}"), ("const", "always {}"), ("default", "default {}"),
    ("minLength", "min. length {}"), ("maxLength", "max. length {}"),
    ("minimum", "min. {}"), ("maximum", "max. {}"),
    ("minItems", "min. items {}"), ("maxItems", "max. items {}"),
    ("uniqueItems", "no duplicates"), ("minProperties", "min. fields {}"),
    ("pattern", "matches {}"),
)


def page(doc: dict[str, Any]) -> str:
    """The page of `doc`, with how to get a token on this server."""
    config = current_app.config
    url = next(option for option in api_token.params if option.name == "url")
    ops = operations(doc)
    return render_template(
        "api/docs.html", doc=doc, operations=ops,
        scopes=sorted({scope for op in ops for scope in op["scopes"]}),
        base=config["BASE_URL"], local_mode=config["LOCAL_MODE"],
        token_command=f"flask --app blog {api_token.name}",
        token_url=config["BASE_URL"] if config["LOCAL_MODE"] else url.default,
        markdown=render, rules=rules, status=status,
        fields=lambda schema: fields(doc, schema),
        resolve=lambda item: resolve(doc, item))


def resolve(doc: dict[str, Any], item: Any) -> Any:
    """`item` with its local `$ref` (and the one that leads to, ...) followed."""
    while isinstance(item, dict) and "$ref" in item:
        target: Any = doc
        for key in item["$ref"].removeprefix("#/").split("/"):
            target = target[key.replace("~1", "/").replace("~0", "~")]
        item = target
    return item


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation in document order, with its parameters and security resolved."""
    found = []
    for path, path_item in doc.get("paths", {}).items():
        for method in (m for m in path_item if m in METHODS):
            op = path_item[method]
            parameters = {}  # an operation's parameter overrides its path's
            for parameter in [*path_item.get("parameters", ()),
                              *op.get("parameters", ())]:
                parameter = resolve(doc, parameter)
                parameters[parameter["name"], parameter["in"]] = parameter
            security = op.get("security", doc.get("security", []))
            found.append({
                "method": method, "path": path, "op": op,
                "anchor": op.get("operationId") or re.sub(
                    r"[^A-Za-z0-9]+", "-", f"{method}{path}").strip("-"),
                "parameters": list(parameters.values()),
                "body": resolve(doc, op.get("requestBody")),
                "responses": {code: resolve(doc, answer)
                              for code, answer in op.get("responses", {}).items()},
                "security": security,
                "scopes": sorted({scope for need in security
                                  for scopes in need.values() for scope in scopes}),
            })
    return found


def fields(doc: dict[str, Any], schema: Any, prefix: str = "") -> list[dict[str, Any]]:
    """An object schema's properties as rows; inline objects add `name.field` rows
    (and arrays of them `name[].field`), a `$ref` links to its own table."""
    schema = resolve(doc, schema) or {}
    required = set(schema.get("required", ()))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        rows.append({"name": prefix + name, "schema": prop,
                     "required": name in required})
        if "properties" in prop:
            rows += fields(doc, prop, f"{prefix}{name}.")
        elif prop.get("type") == "array" and "properties" in prop.get("items", {}):
            rows += fields(doc, prop["items"], f"{prefix}{name}[].")
    return rows


def rules(schema: dict[str, Any]) -> list[Markup]:
    """What a schema allows beyond its type, in words, with values as JSON in <code>."""
    found = []
    for keyword, wording in RULES:
        if keyword not in schema:
            continue
        value = schema[keyword]
        if keyword == "enum":
            shown = Markup(", ").join(as_code(v) for v in value)
        elif keyword in ("default", "const"):
            shown = as_code(value)
        elif keyword == "pattern":
            shown = Markup("<code>{}</code>").format(value)
        else:
            shown = f"{value:,}" if isinstance(value, int) else value
        found.append(Markup(wording).format(shown))
    if schema.get("additionalProperties") is False:
        found.append(Markup("no other fields"))
    items = schema.get("items")
    if isinstance(items, dict) and "$ref" not in items:
        found += [Markup("each item: ") + rule for rule in rules(items)]
    return found


def as_code(value: Any) -> Markup:
    return Markup("<code>{}</code>").format(json.dumps(value))


def status(code: str) -> str:
    """`404 Not Found`; a range such as `4XX` or `default` as it is."""
    name = HTTP_STATUS_CODES.get(int(code)) if code.isdigit() else None
    return f"{code} {name}" if name else code
