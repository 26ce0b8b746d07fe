// Images on the write page: upload with the form, or paste or drop into the body;
// the image's Markdown goes in at the cursor. Without this file the form still works.
"use strict";
(function () {
  const form = document.querySelector("form.image-upload");
  if (!form) return;
  const body = document.getElementById(form.dataset.body);
  const input = form.querySelector("input[type=file]");
  const status = form.querySelector(".image-status");

  function insert(text) {
    const start = body.selectionStart, end = body.selectionEnd;
    const before = body.value.slice(0, start), after = body.value.slice(end);
    // An image of its own paragraph: a blank line before it.
    const lead = !before || before.endsWith("\n\n") ? ""
      : before.endsWith("\n") ? "\n" : "\n\n";
    const block = lead + text + "\n";
    body.value = before + block + after;
    body.selectionStart = body.selectionEnd = start + block.length;
    body.dispatchEvent(new Event("input", { bubbles: true }));
    body.focus();
  }

  async function upload(file) {
    const data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("file", file, file.name || "image");
    status.textContent = "Uploading " + (file.name || "the image") + "…";
    let answer;
    try {
      const response = await fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      answer = await response.json();
      if (!response.ok) throw new Error(answer.error || response.statusText);
    } catch (error) {
      status.textContent = "Not uploaded: " + error.message;
      return;
    }
    insert(answer.markdown);
    status.textContent = "Image added to the body.";
  }

  function images(list) {
    return Array.from(list || []).filter((file) => file.type.startsWith("image/"));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.files.length) {
      upload(input.files[0]).then(() => { input.value = ""; });
    } else {
      status.textContent = "Choose an image first.";
    }
  });
  body.addEventListener("paste", (event) => {
    const files = images(event.clipboardData && event.clipboardData.files);
    if (!files.length) return;
    event.preventDefault();
    files.forEach(upload);
  });
  body.addEventListener("dragover", (event) => {
    if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
      event.preventDefault();
    }
  });
  body.addEventListener("drop", (event) => {
    const files = images(event.dataTransfer && event.dataTransfer.files);
    if (!files.length) return;
    event.preventDefault();
    body.focus();
    files.forEach(upload);
  });
})();
