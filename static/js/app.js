/* Stationmaster: small progressive enhancements.
   No dependencies. CSP-safe: no inline handlers, no eval, no inline styles.
   Every page works without this file; it only makes things nicer. */
(function () {
  "use strict";

  var doc = document;

  /* ---- Clicks: one delegated listener, so HTMX-swapped content needs no re-binding. */
  doc.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;

    // A click outside an open user menu closes it, as a native menu would.
    doc.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      if (!menu.contains(target)) menu.open = false;
    });

    var toggle = target.closest(".topbar__toggle");
    if (toggle) {
      var bar = toggle.closest(".topbar");
      if (bar) toggle.setAttribute("aria-expanded", String(bar.classList.toggle("is-open")));
      return;
    }

    var close = target.closest(".message__close");
    if (close) {
      var message = close.closest(".message");
      if (message) message.remove();
      return;
    }

    var copy = target.closest("button[data-copy-target]");
    if (copy) copyFrom(copy);
  });

  /* ---- Escape closes the user menu and the phone navigation, returning focus to their trigger. */
  doc.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    doc.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      var hadFocus = menu.contains(doc.activeElement);
      menu.open = false;
      var summary = menu.querySelector("summary");
      if (hadFocus && summary) summary.focus();
    });
    doc.querySelectorAll(".topbar.is-open").forEach(function (bar) {
      var toggle = bar.querySelector(".topbar__toggle");
      bar.classList.remove("is-open");
      if (toggle) {
        toggle.setAttribute("aria-expanded", "false");
        if (bar.contains(doc.activeElement)) toggle.focus();
      }
    });
  });

  /* ---- Copy to clipboard. The clipboard API needs a secure context; without it we
     select the text so Ctrl+C works, and stay quiet. */
  function copyFrom(button) {
    var source = null;
    try {
      source = doc.querySelector(button.getAttribute("data-copy-target"));
    } catch (e) {
      return; // invalid selector
    }
    if (!source) return;
    var text = (typeof source.value === "string" ? source.value : source.textContent).trim();
    if (!navigator.clipboard || !window.isSecureContext) {
      selectContents(source);
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      showCopied(button);
    }, function () {
      selectContents(source);
    });
  }

  var copyTimers = new WeakMap();
  function showCopied(button) {
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.textContent);
    button.textContent = "Copied";
    clearTimeout(copyTimers.get(button));
    copyTimers.set(button, setTimeout(function () {
      button.textContent = button.getAttribute("data-label");
    }, 2000));
  }

  function selectContents(el) {
    if (typeof el.select === "function") { el.select(); return; }
    var range = doc.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  /* ---- Relative times, with the absolute time in the viewer's own timezone on hover.
     The server-rendered text stays if anything here fails. */
  var rtf = null, near = null, far = null;
  try {
    rtf = new Intl.RelativeTimeFormat(doc.documentElement.lang || undefined, { numeric: "always", style: "short" });
    near = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    far = new Intl.DateTimeFormat(undefined, {
      weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  } catch (e) { /* old browser: keep server text */ }

  var DAY = 86400;
  // [below this many seconds, divide by this, unit]
  var STEPS = [[45 * 60, 60, "minute"], [36 * 3600, 3600, "hour"], [14 * DAY, DAY, "day"],
               [8 * 7 * DAY, 7 * DAY, "week"], [365 * DAY, 30 * DAY, "month"], [Infinity, 365 * DAY, "year"]];

  function relative(seconds) {
    var abs = Math.abs(seconds);
    if (abs < 45) return seconds <= 0 ? "just now" : rtf.format(1, "minute");
    for (var i = 0; i < STEPS.length; i++) {
      if (abs < STEPS[i][0]) return rtf.format(Math.round(seconds / STEPS[i][1]), STEPS[i][2]);
    }
  }

  function renderTimes() {
    if (!rtf) return;
    var now = Date.now();
    doc.querySelectorAll("time[data-relative][datetime]").forEach(function (el) {
      var when = Date.parse(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var seconds = (when - now) / 1000;
      // Remember a server-provided title (e.g. the train's own timezone) and keep it as a second line.
      if (!el.hasAttribute("data-server-title")) el.setAttribute("data-server-title", el.title || "");
      var absolute = (Math.abs(seconds) < 6 * DAY ? near : far).format(when);
      var serverTitle = el.getAttribute("data-server-title");
      el.title = serverTitle && serverTitle !== absolute ? absolute + "\n" + serverTitle : absolute;
      el.textContent = relative(seconds);
    });
  }

  renderTimes();
  setInterval(renderTimes, 60 * 1000);
  // Background tabs throttle timers; catch up as soon as the page is visible again.
  doc.addEventListener("visibilitychange", function () { if (!doc.hidden) renderTimes(); });
  doc.body.addEventListener("htmx:afterSettle", function () { renderTimes(); });

  /* ---- Busy submit buttons. htmx marks only the requesting element (or the indicator),
     so flag the form's submit buttons with aria-busy for the CSS spinner. */
  function setBusy(elt, busy) {
    if (!(elt instanceof HTMLFormElement)) return;
    elt.querySelectorAll('button:not([type="button"]):not([type="reset"]), input[type="submit"]').forEach(function (b) {
      if (busy) b.setAttribute("aria-busy", "true");
      else b.removeAttribute("aria-busy");
    });
  }
  doc.body.addEventListener("htmx:beforeRequest", function (e) { setBusy(e.detail && e.detail.elt, true); });
  doc.body.addEventListener("htmx:afterRequest", function (e) { setBusy(e.detail && e.detail.elt, false); });
})();
