// The write form, enhanced: a length counter, a warning before leaving unsaved text,
// and autosave of drafts (blog/autosave.py). Without this script the form still
// publishes, saves drafts and previews; nothing here is needed for that.
(function () {
  "use strict";
  const form = document.querySelector("form[data-writing]");
  if (!form) return;
  const title = form.elements.title, body = form.elements.body;
  const counter = document.getElementById("body-count");
  const status = document.getElementById("autosave-status");
  const url = form.dataset.autosave;
  const DELAY = 2000; // ms after the last keystroke before a save
  const max = Number(counter.dataset.max);
  let postId = form.dataset.postId || null;
  let dirty = false, leaving = false, stopped = false;
  let timer = null, inflight = null, pending = false;

  function count() {
    // Code points, line ends as \n: what the server counts.
    const length = Array.from(body.value.replace(/\r\n/g, "\n")).length;
    let text = `${length.toLocaleString("en")} / ${max.toLocaleString("en")} characters`;
    if (length > max) {
      text += ` — ${(length - max).toLocaleString("en")} over the limit: shorten it to publish`;
    }
    counter.textContent = text;
    counter.classList.toggle("over", length > max);
  }

  function show(message, problem) {
    status.textContent = message;
    status.classList.toggle("problem", Boolean(problem));
    status.setAttribute("role", problem ? "alert" : "status");
  }

  function versionField() {
    let field = form.elements.version;
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "version";
      form.append(field);
    }
    return field;
  }

  function learn(answer) {
    // The first save of a new post made a draft: from now on this page edits it.
    postId = answer.id;
    versionField().value = answer.version;
    form.action = answer.edit_url;
    if (location.pathname !== answer.edit_url) {
      history.replaceState(null, "", answer.edit_url);
    }
  }

  async function send(keepalive) {
    const version = form.elements.version ? Number(form.elements.version.value) : null;
    const payload = { id: postId, version: version, title: title.value, body: body.value };
    let response;
    try {
      response = await fetch(url, {
        method: "POST", credentials: "same-origin", keepalive: keepalive,
        headers: { "Content-Type": "application/json",
                   "X-CSRFToken": form.elements.csrf_token.value },
        body: JSON.stringify(payload),
      });
    } catch (error) {
      pending = true;
      show("Not saved yet: the blog cannot be reached. Keep this page open.", true);
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      learn(answer);
      if (!pending) dirty = false;
      show(`Draft saved at ${new Date().toLocaleTimeString()}.`);
    } else if (response.status === 409) {
      stopped = true; // never save over the other version
      show(answer.error || "This draft was changed elsewhere: not saved.", true);
    } else {
      show(`Not saved: ${answer.error || response.statusText}`, true);
    }
  }

  async function save() {
    timer = null;
    if (inflight) await inflight; // one request at a time: never two new drafts
    if (!pending || stopped) return;
    pending = false;
    inflight = send(false).finally(() => { inflight = null; });
    await inflight;
  }

  function changed() {
    dirty = true;
    if (!url || stopped) return;
    pending = true;
    clearTimeout(timer);
    timer = setTimeout(save, DELAY);
  }

  count();
  dirty = "unsaved" in form.dataset; // text the server sent back, not saved
  body.addEventListener("input", count);
  form.addEventListener("input", changed);

  form.addEventListener("submit", (event) => {
    clearTimeout(timer);
    pending = false;
    if (inflight) { // wait for it: its answer may turn this form into the draft's
      event.preventDefault();
      const button = event.submitter;
      inflight.then(() => form.requestSubmit(button));
      return;
    }
    leaving = true;
  });

  window.addEventListener("beforeunload", (event) => {
    if (dirty && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  document.addEventListener("visibilitychange", () => {
    // Leaving the page (or its tab): save now. A new post whose first save is
    // still under way waits for it rather than make a second draft.
    if (document.visibilityState === "hidden" && url && pending && !stopped
        && !(inflight && !postId)) {
      clearTimeout(timer);
      pending = false;
      send(true);
    }
  });
})();
