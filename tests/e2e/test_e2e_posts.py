"""Writing, editing and deleting posts; who may edit and delete them."""

from __future__ import annotations

import re

import pytest

from .browser import expect

pytestmark = pytest.mark.e2e

MARKDOWN = """\
# Spring notes

The garden is *finally* green.

- tulips
- daffodils

Read [the almanac](https://example.com/almanac).
"""


def test_write_in_markdown_edit_and_delete_after_confirming(site, person):
    page = person.page
    person.login("alice@example.com")
    person.publish("A first post", MARKDOWN)

    body = page.locator(".post-body")
    expect(body.get_by_role("heading", name="Spring notes")).to_be_visible()
    expect(body.locator("em")).to_have_text("finally")
    expect(body.get_by_role("listitem")).to_have_text(["tulips", "daffodils"])
    expect(body.get_by_role("link", name="the almanac")).to_have_attribute(
        "href", "https://example.com/almanac")
    expect(body).not_to_contain_text("*finally*")

    page.get_by_role("link", name="Posts", exact=True).click()
    expect(page.get_by_role("heading", name="A first post")).to_be_visible()
    person.screenshot("posts-list")
    page.get_by_role("link", name="A first post").click()
    expect(page.locator(".post-body em")).to_have_text("finally")
    person.screenshot("post")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Title")).to_have_value("A first post")
    page.get_by_label("Title").fill("A first post, revised")
    page.get_by_label("Body").fill("Now with **bold** words.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Post updated.")
    expect(page.get_by_role("heading", level=1)).to_have_text("A first post, revised")
    expect(page.locator(".post-body strong")).to_have_text("bold")
    expect(page.locator(".meta")).not_to_contain_text("updated")  # just published
    expect(page).to_have_url(re.compile(r"/posts/[0-9a-f-]{36}/a-first-post-revised$"))

    delete = page.get_by_role("button", name="Delete post")
    expect(delete).to_be_hidden()
    page.get_by_text("Delete…").click()
    expect(page.get_by_text("Delete this post? This cannot be undone.")).to_be_visible()
    delete.click()
    expect(page.get_by_role("status")).to_have_text("Post deleted.")
    expect(page).to_have_url(site.url("/posts/"))
    expect(page.get_by_text("No posts yet.")).to_be_visible()


def test_others_see_the_post_but_only_a_moderator_may_delete_it(site, new_person):
    alice, bob, mod = new_person(), new_person(), new_person()
    alice.login("alice@example.com")
    post_url = alice.publish("Alice's post", "Only *alice* may edit this.")
    post_page = post_url.removeprefix(site.base)  # /posts/<id>/alice-s-post
    post_path = re.match(r"/posts/[0-9a-f-]{36}", post_page)[0]

    bob.login("bob@example.com", post_page)
    expect(bob.page.locator(".post-body")).to_have_text("Only alice may edit this.")
    expect(bob.page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(bob.page.get_by_text("Delete…")).to_have_count(0)
    bob.expect_status(post_path + "/edit", 403)
    response = bob.page.goto(post_path + "/edit")
    assert response.status == 403
    expect(bob.page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(bob.page.locator("main")).to_contain_text(
        "Only the author of this post can edit it.")
    expect(bob.page.get_by_label("Body")).to_have_count(0)

    mod.login("mod@example.com", post_page)
    expect(mod.page.locator(".who .badge")).to_have_text("admin")
    expect(mod.page.get_by_role("link", name="Edit")).to_have_count(0)
    mod.page.get_by_text("Delete…").click()
    mod.page.get_by_role("button", name="Delete post").click()
    expect(mod.page.get_by_role("status")).to_have_text("Post deleted.")
    expect(mod.page.get_by_text("Alice's post")).to_have_count(0)

    alice.expect_status(post_page, 404)
    alice.page.reload()
    expect(alice.page.get_by_role("heading", name="Not found")).to_be_visible()


def test_form_error_keeps_the_typed_text(site, person):
    page = person.page
    body = "A body worth keeping.\n\nSecond paragraph."
    person.login("alice@example.com", "/posts/new")
    person.expect_status("/posts/new", 400)
    page.get_by_label("Title").fill("   ")  # passes `required`, tidied to nothing
    page.get_by_label("Body").fill(body)
    page.get_by_role("button", name="Publish").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Please fix the problem marked below.")
    expect(page.get_by_text("Give your post a title.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Body")).to_have_value(body)

    page.get_by_label("Title").fill("Kept")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Post published.")
    expect(page.locator(".post-body")).to_contain_text("Second paragraph.")
    expect(page).to_have_url(re.compile(r"/posts/[0-9a-f-]{36}/kept$"))
