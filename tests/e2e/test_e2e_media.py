"""Images on the write page (file, drop) shown in the published post, and code colours.

docs/SECURITY.md, "Uploaded images": the CSP allows the image; only members see it.
"""

from __future__ import annotations

import base64
import re

import pytest

from tests.support.images import image_bytes

from .browser import expect

pytestmark = pytest.mark.e2e
MARKDOWN = re.compile(r"!\[[^\]]*\]\(/media/[A-Za-z0-9_-]{22}\.(png|jpg)\)")
DROP = """([data, name]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], name, {type: "image/png"}));
  document.getElementById("body").dispatchEvent(new DragEvent("drop",
    {dataTransfer: files, bubbles: true, cancelable: true}));
}"""


def test_upload_and_drop_images_then_see_them_in_the_post(site, person, tmp_path):
    page = person.page
    person.login("alice@example.com", "/posts/new")
    photo = tmp_path / "Garden photo.jpg"
    photo.write_bytes(image_bytes("JPEG", (640, 480)))
    page.get_by_label("Title").fill("With pictures")
    page.get_by_label("Body").fill("Before.\n")
    page.get_by_label("Add an image").set_input_files(photo)
    page.get_by_role("button", name="Upload image").click()
    expect(page.locator(".image-status")).to_have_text("Image added to the body.")
    expect(page.get_by_label("Body")).to_have_value(re.compile(
        r"^Before\.\n\n!\[Garden photo\]\(/media/[^)]+\.jpg\)\n$"))

    page.evaluate(DROP, [base64.b64encode(image_bytes("PNG", (40, 30))).decode(),
                         "dropped.png"])
    expect(page.get_by_label("Body")).to_have_value(re.compile(r"dropped\]"))
    body = page.get_by_label("Body").input_value()
    assert len(MARKDOWN.findall(body)) == 2
    page.get_by_label("Body").fill(body + "\n```python\ndef f():\n    pass\n```\n")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Post published.")

    pictures = page.locator(".post-body img")
    expect(pictures).to_have_count(2)
    for i in range(2):
        expect(pictures.nth(i)).to_have_js_property("complete", True)
        assert pictures.nth(i).evaluate("img => img.naturalWidth") in (640, 40)
    keyword = page.locator(".post-body pre span.k").first
    expect(keyword).to_have_text("def")
    expect(keyword).to_have_css("color", "rgb(0, 128, 0)")
    expect(page.locator(".post-body pre")).to_have_attribute("tabindex", "0")
    person.screenshot("post-with-images")

    src = pictures.first.get_attribute("src")
    person.page.context.clear_cookies()
    response = page.request.get(src, max_redirects=0)
    assert response.status == 302 and "/auth/login" in response.headers["location"]
