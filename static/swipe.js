// Progressive enhancement of the swipe page: the forms work without it.
// Keyboard: → like, ← nope, ↑ superlike, Backspace undo. Touch: drag the top
// card right (like), left (nope) or up (superlike). Swipes are sent with
// fetch (the form's CSRF token travels in its hidden field) and the next card
// is shown without reloading; a match or an error reloads to show the notice.
(function () {
  "use strict";
  var deck = document.querySelector("[data-testid=deck]");
  var actions = document.querySelector(".swipe-actions");
  if (!deck || !actions || !window.fetch) { return; }

  function form(kind) { return document.querySelector("form[data-kind=" + kind + "]"); }
  function top() { return deck.querySelector(".deck-item.top"); }

  function send(kind) {
    var f = form(kind);
    var card = top();
    if (!f || !card) { return; }
    var body = new URLSearchParams(new FormData(f));
    if (kind !== "rewind") { body.set("target", card.getAttribute("data-candidate")); }
    fetch(f.action, {
      method: "POST",
      body: body,
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (res) {
      return res.json().then(function (json) { return { ok: res.ok, json: json }; });
    }).then(function (r) {
      if (!r.ok || r.json.result !== "swiped") {
        var notice = r.ok && r.json.result === "match" ? "its_a_match" : (r.ok ? "rewound" : "");
        window.location.href = "/discover" + (notice ? "?notice=" + notice : "");
        return;
      }
      next();
    }).catch(function () { f.submit(); });
  }

  function next() {
    var card = top();
    if (!card) { return; }
    var following = card.nextElementSibling;
    card.remove();
    if (following) {
      following.classList.add("top");
    } else {
      window.location.href = "/discover";
    }
  }

  actions.addEventListener("submit", function (e) {
    var kind = e.target.getAttribute("data-kind");
    if (kind) { e.preventDefault(); send(kind); }
  });
  var rewind = form("rewind");
  if (rewind) {
    rewind.addEventListener("submit", function (e) { e.preventDefault(); send("rewind"); });
  }

  document.addEventListener("keydown", function (e) {
    if (e.target && /INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) { return; }
    var kind = { ArrowRight: "like", ArrowLeft: "dislike", ArrowUp: "superlike", Backspace: "rewind" }[e.key];
    if (kind) { e.preventDefault(); send(kind); }
  });

  var startX = 0, startY = 0;
  deck.addEventListener("touchstart", function (e) {
    startX = e.touches[0].clientX; startY = e.touches[0].clientY;
  }, { passive: true });
  deck.addEventListener("touchend", function (e) {
    var dx = e.changedTouches[0].clientX - startX;
    var dy = e.changedTouches[0].clientY - startY;
    if (Math.abs(dx) > 80 && Math.abs(dx) > Math.abs(dy)) { send(dx > 0 ? "like" : "dislike"); }
    else if (dy < -80) { send("superlike"); }
  });
})();
