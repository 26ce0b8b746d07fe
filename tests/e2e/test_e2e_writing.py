"""Writing in the browser (blog/static/writing.js): autosave of drafts, a second tab's
edit shown as a conflict, the warning before leaving unsaved text, the counter."""

from __future__ import annotations

import re

import pytest

from .browser import expect

pytestmark = pytest.mark.e2e
EDIT_URL = re.compile(r"/posts/[0-9a-f-]{36}/edit$")


def type_and_wait_for_the_save(page, text: str, status: int = 200) -> None:
    body = page.get_by_label("Body")
    body.press("Control+End")
    with page.expect_response("**/posts/autosave") as saved:
        body.press_sequentially(text)
    assert saved.value.status == status


def start_a_post(person, title: str, text: str) -> None:
    page = person.page
    page.get_by_role("link", name="Write", exact=True).click()
    page.get_by_label("Title").fill(title)
    type_and_wait_for_the_save(page, text, 201)
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved")
    expect(page).to_have_url(EDIT_URL)  # the page now edits the draft it made


def test_typing_is_autosaved_as_one_draft_that_a_reload_brings_back(site, person):
    page = person.page
    person.login("alice@example.com")
    start_a_post(person, "Half a thought", "Typed, never sent")
    type_and_wait_for_the_save(page, " and more")
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("Half a thought")
    expect(page.get_by_label("Body")).to_have_value("Typed, never sent and more")
    page.get_by_role("link", name="Drafts").click()
    expect(page.locator(".post-card")).to_have_count(1)  # one draft, never two
    expect(page.locator(".post-card h2")).to_have_text("Half a thought")
    page.get_by_role("link", name="Posts", exact=True).click()
    expect(page.get_by_text("No posts yet.")).to_be_visible()  # never published

    page.get_by_role("link", name="Drafts").click()
    page.get_by_role("link", name="Half a thought").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Post published.")
    page.get_by_role("link", name="Posts", exact=True).click()
    expect(page.locator(".post-card")).to_have_count(1)


def test_an_edit_in_another_tab_is_shown_as_a_conflict(site, person):
    page = person.page
    person.expect_status("/posts/autosave", 409)
    person.login("alice@example.com")
    start_a_post(person, "Two tabs", "first")
    other = person.context.new_page()
    other.goto(page.url)
    expect(other.get_by_label("Body")).to_have_value("first")
    type_and_wait_for_the_save(other, " from the other tab")

    type_and_wait_for_the_save(page, " from this tab", 409)
    status = page.locator("#autosave-status")
    expect(status).to_contain_text("changed somewhere else (another tab or window)")
    expect(status).to_have_attribute("role", "alert")
    other.reload()
    expect(other.get_by_label("Body")).to_have_value("first from the other tab")


def test_leaving_with_unsaved_text_asks_first(site, person):
    page = person.page
    person.login("alice@example.com")
    page.get_by_role("link", name="Write", exact=True).click()
    page.get_by_label("Body").press_sequentially("Not saved yet")
    dialogs = []

    def stay(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.get_by_role("link", name="Posts", exact=True).click(no_wait_after=True)
    expect(page.get_by_label("Body")).to_have_value("Not saved yet")
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(site.url("/posts/new"))


def test_a_long_paste_is_counted_and_refused_never_cut(site, person):
    page = person.page
    person.expect_status("/posts/new", 400)
    person.expect_status("/posts/autosave", 400)
    person.login("alice@example.com")
    page.get_by_role("link", name="Write", exact=True).click()
    counter = page.locator("#body-count")
    expect(counter).to_have_text("0 / 50,000 characters")
    page.get_by_label("Title").fill("Too long")
    page.get_by_label("Body").fill("x" * 60_000)
    expect(counter).to_contain_text("60,000 / 50,000 characters")
    expect(counter).to_contain_text("10,000 over the limit")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#body-error")).to_have_text(
        "Keep the body to 50,000 characters (it has 60,000).")
    assert len(page.get_by_label("Body").input_value()) == 60_000
