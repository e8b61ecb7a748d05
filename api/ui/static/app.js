// worker-runs web UI: the few behaviours htmx does not cover.
// - the "Create a worker run" modal (native <dialog>: focus trap and Escape for free);
// - copy buttons;
// - read-your-writes: every htmx read carries the newest event position this page knows
//   (X-Min-Event-Position), taken from command responses (X-Event-Position) and live events;
// - live updates: the server-sent events of /api/v1/events/stream refresh the lists, so a
//   second tab shows a new run without a reload.
(function () {
  "use strict";

  let knownPosition = 0;

  function notePosition(value) {
    const position = parseInt(value, 10);
    if (Number.isFinite(position) && position > knownPosition) knownPosition = position;
  }

  // --- the modal ------------------------------------------------------------------------------

  function dialog() {
    return document.getElementById("create-run");
  }

  function openModal() {
    const modal = dialog();
    if (!modal || modal.open) return;
    modal.showModal();
    const search = document.getElementById("worker-search");
    if (search) search.focus();
  }

  function closeModal() {
    const modal = dialog();
    if (modal && modal.open) modal.close();
  }

  const DETAIL_HINT = "Choose a worker to see its versions, or create a local worker with “Create”. " +
    "“Quick run” does worker, version and run in one step.";

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#open-create-run")) {
      openModal();
      return;
    }
    // Confirmation dialogs (a run's "Retract", issue 14): native <dialog>, opened and closed here.
    const opener = target.closest("[data-open-dialog]");
    if (opener) {
      const box = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (box && !box.open) box.showModal();
      return;
    }
    const closer = target.closest("[data-close-dialog]");
    if (closer) {
      const box = closer.closest("dialog");
      if (box) box.close();
      return;
    }
    if (target.closest("[data-close]")) {
      closeModal();
      return;
    }
    const copy = target.closest("[data-copy]");
    if (copy) {
      copyText(copy.getAttribute("data-copy"), copy);
      return;
    }
    const dismiss = target.closest("[data-dismiss-form]");
    if (dismiss) {
      const form = dismiss.closest("form");
      const panel = form && form.parentElement;
      if (form) form.remove();
      if (panel && panel.id === "worker-detail" && !panel.children.length) {
        const hint = document.createElement("p");
        hint.className = "hint";
        hint.textContent = DETAIL_HINT;
        panel.appendChild(hint);
      }
      const openers = {"worker-detail": "create-worker", "configuration-slot": "new-configuration"};
      const opener = document.getElementById(
        form && form.id === "quick-run-form" ? "quick-run" : (panel && openers[panel.id]) || "create-version");
      if (opener) opener.focus();
      return;
    }
    if (target.closest("[data-reload]")) {
      window.location.reload();
      return;
    }
    const item = target.closest(".worker-item");
    if (item) {
      // Feedback while the panel loads; the highlight itself follows the panel (showSelection).
      document.querySelectorAll(".worker-item.loading").forEach(function (el) { el.classList.remove("loading"); });
      item.classList.add("loading");
    }
  });

  // The highlighted worker is always the one the panel shows (none while the panel shows the
  // "Create a local worker" form or the hint): the list never says B while the panel says A.
  function showSelection() {
    const panel = document.getElementById("worker-detail");
    const shown = panel && panel.querySelector(".detail[data-worker-id]");
    const id = shown ? shown.getAttribute("data-worker-id") : null;
    document.querySelectorAll(".worker-item").forEach(function (el) {
      const selected = el.getAttribute("data-worker-id") === id;
      el.classList.toggle("selected", selected);
      el.classList.remove("loading");
      el.setAttribute("aria-current", selected ? "true" : "false");
    });
  }

  // A plain form marked data-submit-once cannot be sent twice (a second press would only be refused).
  document.addEventListener("submit", function (event) {
    const form = event.target instanceof HTMLFormElement ? event.target : null;
    if (!form || !form.hasAttribute("data-submit-once")) return;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "true";
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.setAttribute("aria-disabled", "true"); });
  });

  // A click on the backdrop (outside the dialog's box) closes it, as users expect.
  document.addEventListener("mousedown", function (event) {
    const modal = dialog();
    if (modal && modal.open && event.target === modal) {
      const box = modal.getBoundingClientRect();
      const inside = event.clientX >= box.left && event.clientX <= box.right &&
        event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) closeModal();
    }
  });

  function copyText(text, button) {
    const done = function () {
      const label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () {
        button.textContent = label;
        button.classList.remove("copied");
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the ID stays selectable on the page */ }
    area.remove();
  }

  // --- htmx: positions and focus ----------------------------------------------------------------

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    if (knownPosition > 0) event.detail.headers["X-Min-Event-Position"] = String(knownPosition);
    // A refreshed workers list keeps the chosen worker highlighted.
    if (event.detail.path.indexOf("/ui/workers") === 0 && !/\/ui\/workers\/./.test(event.detail.path)) {
      const chosen = document.querySelector(".worker-item.selected");
      if (chosen) event.detail.parameters["selected"] = chosen.getAttribute("data-worker-id");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    const xhr = event.detail.xhr;
    if (xhr) notePosition(xhr.getResponseHeader("X-Event-Position"));
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    const source = event.detail.elt;
    // A person's new request (not a live refresh of a list): an earlier problem report is no
    // longer news.
    if (source && source.id !== "runs" && source.id !== "workers") {
      document.querySelectorAll("[data-kind='problem']").forEach(function (el) { el.remove(); });
    }
    // A "+" press: the previous step's message in the worker panel is no longer news.
    if (source && source.closest && source.closest(".plus-form")) {
      document.querySelectorAll("#worker-detail .inline-notice").forEach(function (el) { el.remove(); });
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (target && (target.id === "worker-detail" || target.id === "workers")) showSelection();
    if (target && target.id === "run-notice") showNewRun(target);
    if (!target || target.id !== "worker-detail") return;
    // A quick run's answer: the run's ID is what the person came for; focus its Copy button.
    // (htmx reports one response's swap once per swapped element: the mark is dropped after
    // all of them, so none of them moves the focus elsewhere.)
    const quick = document.querySelector("#run-notice [data-focus-copy]");
    if (quick) {
      setTimeout(function () { quick.removeAttribute("data-focus-copy"); }, 0);
      const copy = quick.querySelector(".copy");
      if (copy) { copy.focus(); return; }
    }
    // A new panel: move focus to it (or to what it asks for), so keyboard users follow.
    if (!target.querySelector("[autofocus]")) {
      const title = target.querySelector("#worker-title");
      if (title) title.focus();
    }
  });

  // A new run: the version's "+" becomes the run's ID (one run per version), when the panel
  // still shows that version; the focus goes to the notice's Copy button (the "+" is gone).
  function showNewRun(notice) {
    const fresh = notice.querySelector("template[data-version-run-for]");
    if (!fresh) return;
    const id = fresh.getAttribute("data-version-run-for");
    document.querySelectorAll("[data-version-run]").forEach(function (slot) {
      const plus = slot.querySelector(".plus");
      // (htmx may report the swap more than once: a slot already showing the run stays.)
      if (slot.getAttribute("data-version-run") !== id || !plus) return;
      const replacement = fresh.content.firstElementChild.cloneNode(true);
      // Name the version as its "+" did ("… from version 2" -> "… of your run of version 2").
      const copy = replacement.querySelector(".copy");
      const label = plus && plus.getAttribute("aria-label");
      if (copy && label && label.indexOf(" from ") > 0) {
        copy.setAttribute("aria-label", "Copy the ID of your run of " + label.slice(label.indexOf(" from ") + 6));
      }
      slot.replaceWith(replacement);
    });
    const copy = notice.querySelector(".copy");
    if (copy) copy.focus();
  }

  // --- the account menu: opens on hover (and on click or tap, natively); Escape and a click
  // outside close it ----------------------------------------------------------------------------

  function accountMenu() {
    return document.querySelector("details.user-menu");
  }

  let menuTimer = null;
  document.addEventListener("mouseover", function (event) {
    const menu = accountMenu();
    if (!menu || !(event.target instanceof Element)) return;
    if (menu.contains(event.target)) {
      clearTimeout(menuTimer);
      if (!menu.open) {
        menu.open = true;
        menu.setAttribute("data-hover-opened", "");
      }
    } else if (menu.open && menu.hasAttribute("data-hover-opened")) {
      // Left the menu: close after a moment (a pointer crossing the gap keeps it open).
      clearTimeout(menuTimer);
      menuTimer = setTimeout(function () {
        menu.open = false;
        menu.removeAttribute("data-hover-opened");
      }, 300);
    }
  });
  document.addEventListener("click", function (event) {
    const menu = accountMenu();
    if (!menu || !(event.target instanceof Element)) return;
    const summary = menu.querySelector("summary");
    if (summary && summary.contains(event.target) && menu.hasAttribute("data-hover-opened")) {
      // Opened by hover, then clicked: keep it open (a click means "I want this menu").
      event.preventDefault();
      menu.removeAttribute("data-hover-opened");
      return;
    }
    if (menu.open && !menu.contains(event.target)) {
      menu.open = false;
      menu.removeAttribute("data-hover-opened");
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    const menu = accountMenu();
    if (event.key !== "Escape" || !menu || !menu.open) return;
    menu.open = false;
    menu.removeAttribute("data-hover-opened");
    const summary = menu.querySelector("summary");
    if (summary && menu.contains(document.activeElement)) summary.focus();
  });

  // --- when a request fails: say what happened, never leave a silent page -----------------------

  // Where a problem is said: inside the modal when it is open (above its backdrop), else at
  // the top of the page.
  function report(kind, text, offerReload) {
    const modal = dialog();
    const slot = document.getElementById(modal && modal.open ? "run-notice" : "page-notice");
    if (!slot) return;
    const box = document.createElement("div");
    box.className = "notice " + kind;
    box.setAttribute("data-kind", "problem");
    box.setAttribute("role", "alert");
    const p = document.createElement("p");
    p.textContent = text;
    box.appendChild(p);
    if (offerReload) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn small";
      button.setAttribute("data-reload", "");
      button.textContent = "Reload the page";
      box.appendChild(button);
    }
    slot.replaceChildren(box);
  }

  // A request that changes something: its config says so, or (for errors raised before the
  // config is known, like htmx:targetError) the element that sent it.
  function isWrite(event) {
    const detail = event.detail || {};
    if (detail.requestConfig && detail.requestConfig.verb) return detail.requestConfig.verb !== "get";
    const elt = detail.elt || event.target;
    return !!(elt && elt.closest && elt.closest("[hx-post], [hx-put], [hx-patch], [hx-delete]"));
  }

  // The server answered 2xx (the write happened) but the answer could not be put on the page.
  function cannotShow(event) {
    if (isWrite(event)) {
      report("warning", "Saved, but this page could not show the result. Do not press the button again: " +
        "reload the page to see it.", true);
    } else {
      report("warning", "This part of the page could not be updated: reload the page.", true);
    }
  }
  document.addEventListener("htmx:targetError", cannotShow);
  document.addEventListener("htmx:swapError", cannotShow);

  document.addEventListener("htmx:responseError", function (event) {
    const detail = event.detail || {};
    const status = detail.xhr ? detail.xhr.status : 0;
    if (status === 401) return;  // the session ended: htmx follows HX-Redirect to the sign-in page
    if (status === 403) {
      report("error", "This page is out of date (you may have signed out in another tab): reload it.", true);
    } else if (isWrite(event)) {
      report("error", "The server could not finish this (" + status + "). It may or may not have been " +
        "saved: reload the page to see where things stand before trying again.", true);
    } else {
      report("error", "The server could not answer (" + status + "): reload the page.", true);
    }
  });

  function noAnswer(event) {
    if (isWrite(event)) {
      report("error", "No answer from the server: your change may have been saved. Reload the page to check " +
        "before trying again.", true);
    } else {
      report("error", "The server cannot be reached: check your connection, then reload the page.", true);
    }
  }
  document.addEventListener("htmx:sendError", noAnswer);
  document.addEventListener("htmx:timeout", noAnswer);

  // --- live updates (server-sent events) ----------------------------------------------------------

  // The stream's public event types (`event:` lines; integrations/translator.py).
  const RUN_EVENTS = ["worker_run.created"];
  const CATALOG_EVENTS = ["worker.created", "worker.updated", "worker.access_granted", "worker_type.created",
    "worker_version.created", "worker_version.updated"];
  let refreshTimer = null;
  const pending = new Set();

  function scheduleRefresh(kind) {
    pending.add(kind);
    if (refreshTimer) return;
    // Several events in a burst (a worker, its type, its version...) -> one refresh.
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      const kinds = Array.from(pending);
      pending.clear();
      kinds.forEach(function (name) { htmx.trigger(document.body, name); });
    }, 100);
  }

  function eventKind(type, data) {
    let name = type;
    if (type === "message" && data) {
      try {
        const parsed = JSON.parse(data);
        name = parsed.event_type || parsed.type || type;
      } catch (e) { /* not JSON: keep the SSE event name */ }
    }
    if (RUN_EVENTS.indexOf(name) >= 0) return "runs-changed";
    if (CATALOG_EVENTS.indexOf(name) >= 0) return "catalog-changed";
    return type === "message" ? "any" : null;
  }

  function connectLive() {
    const url = document.body.getAttribute("data-live-url");
    if (!url || !window.EventSource) return;
    let delay = 1000;
    const open = function () {
      const source = new EventSource(url);
      const onEvent = function (event) {
        delay = 1000;
        notePosition(event.lastEventId);
        const kind = eventKind(event.type, event.data);
        if (kind === "any") {
          scheduleRefresh("runs-changed");
          scheduleRefresh("catalog-changed");
        } else if (kind) {
          scheduleRefresh(kind);
        }
      };
      source.onmessage = onEvent;
      RUN_EVENTS.concat(CATALOG_EVENTS).forEach(function (name) { source.addEventListener(name, onEvent); });
      source.onopen = function () {
        delay = 1000;
        document.body.setAttribute("data-live", "on");
      };
      source.onerror = function () {
        document.body.setAttribute("data-live", "off");
        // EventSource retries by itself after a dropped connection; after a refused one
        // (an HTTP error, e.g. a server without the stream) it gives up: retry, slower.
        if (source.readyState === EventSource.CLOSED) {
          setTimeout(open, delay);
          delay = Math.min(delay * 2, 60000);
        }
      };
    };
    open();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connectLive);
  } else {
    connectLive();
  }
})();
