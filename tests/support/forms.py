"""Posting a page's form as a browser would: its own fields kept, some filled in."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

POST_FORM = re.compile(r'<form[^>]*method="post"[^>]*>(.*?)</form>', re.S | re.I)
INPUT = re.compile(r"<input[^>]*>")


@dataclass
class Form:
    """Where a form posts (an absolute URL) and what it sends unless told otherwise."""

    action: str
    fields: dict[str, str]


def find_form(page: requests.Response, skip: str | None = None) -> Form:
    """The first POST form on `page` (skipping those whose action contains `skip`).

    Its fields are the named `<input>`s with their values ("" when none), as a
    browser sends them; a form without an action posts back to the page.
    """
    for match in POST_FORM.finditer(page.text):
        opening = match.group(0)[: match.group(0).index(">")]
        action = re.search(r'action="([^"]*)"', opening)
        if skip and action and skip in action.group(1):
            continue
        fields = {}
        for tag in INPUT.findall(match.group(1)):
            name, value = re.search(r'name="([^"]*)"', tag), re.search(
                r'value="([^"]*)"', tag
            )
            if name:
                fields[name[1]] = html.unescape(value[1]) if value else ""
        target = html.unescape(action.group(1)) if action else page.url
        return Form(urljoin(page.url, target), fields)
    raise LookupError(f"no POST form on {page.url}")


def submit(
    browser: requests.Session,
    page: requests.Response | str,
    fields: dict[str, str] | None = None,
    **post: object,
) -> requests.Response:
    """GET `page` (unless it is a response already), then POST its first form.

    `fields` fill in or override the form's own; `post` goes to `browser.post`
    (`allow_redirects`, `timeout`, ...).
    """
    if isinstance(page, str):
        page = browser.get(page, allow_redirects=False, timeout=10)
    form = find_form(page)
    return browser.post(form.action, data={**form.fields, **(fields or {})}, **post)
