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

  var live = document.getElementById("live");
  if (!live) return;
  var sentence = document.getElementById("live-sentence");
  var url = live.dataset.liveUrl;

  function generating() {
    var state = live.querySelector("[data-generating]");
    return state && state.dataset.generating === "true";
  }

  function poll() {
    if (!generating()) return;
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          // Signed out, or the quiz was deleted meanwhile: show what the page now is.
          if (response.redirected || response.status === 404) { window.location.reload(); return null; }
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          live.innerHTML = html;
          // "Generation has started" is stale once the round has ended.
          if (!generating()) {
            var notice = document.querySelector("main > .notice");
            if (notice) notice.remove();
          }
          var state = live.querySelector("[data-sentence]");
          if (sentence && state && sentence.textContent !== state.dataset.sentence) {
            sentence.textContent = state.dataset.sentence;
          }
        })
        .catch(function () { /* a missed poll is retried on the next tick */ })
        .then(poll);
    }, 1000);
  }
  poll();
})();
