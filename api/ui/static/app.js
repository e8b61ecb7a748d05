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

  const DETAIL_HINT = "Choose a worker to see its versions, or create a local worker with “Create”.";

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#open-create-run")) {
      openModal();
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
      const opener = document.getElementById(panel && panel.id === "worker-detail" ? "create-worker" : "create-version");
      if (opener) opener.focus();
      return;
    }
    const item = target.closest(".worker-item");
    if (item) {
      document.querySelectorAll(".worker-item").forEach(function (other) {
        other.classList.toggle("selected", other === item);
        other.setAttribute("aria-current", other === item ? "true" : "false");
      });
    }
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
    // A "+" press: the previous step's message in the worker panel is no longer news.
    const source = event.detail.elt;
    if (source && source.closest && source.closest(".plus-form")) {
      document.querySelectorAll("#worker-detail .inline-notice").forEach(function (el) { el.remove(); });
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (!target || target.id !== "worker-detail") return;
    // A new panel: move focus to it (or to what it asks for), so keyboard users follow.
    if (!target.querySelector("[autofocus]")) {
      const title = target.querySelector("#worker-title");
      if (title) title.focus();
    }
  });

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
