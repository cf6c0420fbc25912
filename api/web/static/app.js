// quizgen review pages: live progress on a quiz page, and one submit per generation form.
"use strict";

(function () {
  // A "once" form submits once per page: a double click must not start two rounds
  // (the API would answer 409 anyway; this spares the teacher the notice) nor
  // create the same quiz twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("once")) return;
    if (form.dataset.sent === "true") { event.preventDefault(); return; }
    form.dataset.sent = "true";
    var button = form.querySelector("button[type=submit]");
    if (button) button.setAttribute("aria-disabled", "true");
  });

  // A notice arrives once, in the address after a post; drop it so a reload does not repeat it.
  if (window.location.search.indexOf("notice=") !== -1) {
    var url0 = new URL(window.location.href);
    url0.searchParams.delete("notice");
    window.history.replaceState(null, "", url0.pathname + url0.search + url0.hash);
  }

  // A form with data-confirm asks first (without JavaScript it simply posts).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm || form.dataset.sent === "true") return;
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Live regions: an element with data-live-url is redrawn from that address every second
  // while it holds an element marked data-generating="true" (a generation round) or
  // data-polling="true" (a Canvas export). Its data-sentence goes to the screen readers'
  // status line (#live-sentence, or the region's data-sentence-id). When one region's work
  // ends, the others are redrawn once (the quiz's status badge changes with the export's).
  var regions = Array.prototype.slice.call(document.querySelectorAll("[data-live-url]"));
  if (regions.length === 0) return;

  function active(region) {
    return region.querySelector('[data-generating="true"], [data-polling="true"]') !== null;
  }

  function redraw(region) {
    return fetch(region.dataset.liveUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        // Signed out, or the quiz was deleted meanwhile: show what the page now is.
        if (response.redirected || response.status === 404) { window.location.reload(); return null; }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        region.innerHTML = html;
        var sentence = document.getElementById(region.dataset.sentenceId || "live-sentence");
        var state = region.querySelector("[data-sentence]");
        if (sentence && state && sentence.textContent !== state.dataset.sentence) {
          sentence.textContent = state.dataset.sentence;
        }
      });
  }

  function follow(region) {
    if (!active(region)) return;
    window.setTimeout(function () {
      redraw(region)
        .then(function () {
          if (active(region)) return;
          // "Generation has started" (or "The export has started") is stale now.
          var notice = document.querySelector("main > .notice");
          if (notice) notice.remove();
          regions.forEach(function (other) {
            if (other !== region) redraw(other).catch(function () { /* shown on reload */ });
          });
        })
        .catch(function () { /* a missed poll is retried on the next tick */ })
        .then(function () { follow(region); });
    }, 1000);
  }
  regions.forEach(follow);
})();
