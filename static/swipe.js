// The swipe deck, on top of forms that work without it.
// Drag the top card with a finger or the mouse (right: like, left: nope,
// up: superlike; it turns and shows a stamp as it goes), tap its photo for
// the next one, or use the keyboard: → like, ← nope, ↑ superlike,
// Backspace undo, Space next photo. Swipes go out with fetch (the form's
// CSRF token travels in its hidden field); the next card is already under
// the top one. A match opens the "It's a match" screen; a refusal (no
// superlikes left, nothing to undo…) is said on the page and to screen
// readers, never a silent reload.
(function () {
  "use strict";
  var page = document.querySelector("[data-testid=discover]");
  if (!page || !window.fetch) { return; }
  var deck = page.querySelector("[data-testid=deck]");
  var errorBox = page.querySelector("[data-testid=deck-error]");
  var live = page.querySelector("[data-live]");
  var matchScreen = page.querySelector("[data-testid=match-screen]");
  var THRESHOLD = 100;
  var busy = false;

  function form(kind) { return page.querySelector("form[data-kind=" + kind + "]"); }
  function button(kind) { var f = form(kind); return f && f.querySelector("button"); }
  function top() { return deck && deck.querySelector(".deck-item.top"); }
  function count(name) { var el = page.querySelector("[data-" + name + "]"); return el ? Number(el.textContent) : 0; }
  function setCount(name, n) { var el = page.querySelector("[data-" + name + "]"); if (el) { el.textContent = String(n); } }
  function say(text) { if (live) { live.textContent = ""; live.textContent = text; } }

  function showError(code, message) {
    if (!errorBox) { return; }
    errorBox.textContent = message;
    errorBox.setAttribute("data-error-code", code);
    errorBox.hidden = false;
  }
  function clearError() { if (errorBox) { errorBox.hidden = true; errorBox.removeAttribute("data-error-code"); } }

  // A button the allowance has switched off says why instead of sending.
  function refusal(kind) {
    var b = button(kind);
    if (!b || b.getAttribute("aria-disabled") !== "true") { return null; }
    if (kind === "rewind") {
      return count("rewinds-left") > 0
        ? { code: "nothing_to_rewind", message: b.getAttribute("data-nothing") }
        : { code: "rewind_limit_reached", message: b.getAttribute("data-limit") };
    }
    return { code: "superlike_limit_reached", message: b.getAttribute("data-limit") };
  }

  function send(kind) {
    if (busy) { return; }
    var refused = refusal(kind);
    if (refused) { showError(refused.code, refused.message); return; }
    var f = form(kind);
    var card = top();
    if (!f || (!card && kind !== "rewind")) { return; }
    var body = new URLSearchParams(new FormData(f));
    if (kind !== "rewind") { body.set("target", card.getAttribute("data-candidate")); }
    busy = true;
    fetch(f.action, {
      method: "POST",
      body: body,
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (res) {
      return res.json().then(function (json) { return { ok: res.ok, status: res.status, json: json }; });
    }).then(function (r) {
      busy = false;
      if (!r.ok) { return refused_by_server(kind, r); }
      clearError();
      if (kind === "rewind") { window.location.href = "/discover?notice=rewound"; return; }
      if (kind === "superlike") { spend("superlikes-left", "superlike"); }
      var undo = button("rewind");
      if (undo && count("rewinds-left") > 0) { undo.removeAttribute("aria-disabled"); }
      if (r.json.result === "match") { celebrate(card, r.json.match_id); }
      fly(card, kind);
    }).catch(function () { busy = false; f.submit(); });
  }

  function refused_by_server(kind, r) {
    var error = r.json && r.json.error;
    if (r.status === 401 || !error) { window.location.reload(); return; }
    showError(error.code, error.message);
    say(error.message);
    if (error.code === "superlike_limit_reached") { setCount("superlikes-left", 0); disable("superlike"); }
    if (error.code === "rewind_limit_reached") { setCount("rewinds-left", 0); disable("rewind"); }
    if (error.code === "nothing_to_rewind") { disable("rewind"); }
    if (error.code === "already_swiped" && top()) { next(); }
  }

  function disable(kind) { var b = button(kind); if (b) { b.setAttribute("aria-disabled", "true"); } }
  function spend(name, kind) {
    var left = Math.max(0, count(name) - 1);
    setCount(name, left);
    if (left === 0) { disable(kind); }
  }

  // The card leaves the way it was swiped; the one under it comes up.
  function fly(card, kind) {
    var x = kind === "like" ? 1 : kind === "dislike" ? -1 : 0;
    card.classList.add("gone");
    card.style.transform = "translate(" + (x * 140) + "%, " + (x === 0 ? "-120%" : "10%") + ") rotate(" + (x * 25) + "deg)";
    next();
    window.setTimeout(function () { card.remove(); }, 320);
  }

  function next() {
    var card = top();
    if (!card) { return; }
    card.classList.remove("top");
    var following = card.nextElementSibling;
    while (following && following.classList.contains("gone")) { following = following.nextElementSibling; }
    if (!following) {
      if (!matchScreen || matchScreen.hidden) { window.location.href = "/discover"; }
      return;
    }
    following.classList.remove("under");
    following.classList.add("top");
    var after = following.nextElementSibling;
    if (after) { after.classList.add("under"); }
    say(following.getAttribute("aria-label"));
  }

  function celebrate(card, matchId) {
    if (!matchScreen) { window.location.href = "/discover?notice=its_a_match&match=" + matchId; return; }
    var name = card.querySelector(".nickname").textContent;
    var photo = card.querySelector(".deck-photos img");
    var slot = matchScreen.querySelector("[data-slot=photo]");
    var initial = matchScreen.querySelector("[data-slot=initial]");
    if (photo) { slot.src = photo.src; slot.alt = name; }
    slot.hidden = !photo;
    initial.textContent = name.charAt(0);
    initial.hidden = !!photo;
    var lead = matchScreen.querySelector("template[data-lead]");
    matchScreen.querySelector("[data-slot=lead]").textContent = lead ? lead.innerHTML.replace("{name}", name) : "";
    matchScreen.querySelector("[data-testid=send-message]").href = "/matches/" + matchId;
    matchScreen.hidden = false;
    say(matchScreen.querySelector("h2").textContent + " " + matchScreen.querySelector("[data-slot=lead]").textContent);
    matchScreen.querySelector("[data-testid=send-message]").focus();
  }

  if (matchScreen) {
    var close = matchScreen.querySelector("[data-close]");
    close.addEventListener("click", function (e) {
      if (!top()) { return; } // nobody left here: the link reloads the deck
      e.preventDefault();
      matchScreen.hidden = true;
      var like = button("like");
      if (like) { like.focus(); }
    });
    if (!matchScreen.hidden) { matchScreen.querySelector("[data-testid=send-message]").focus(); }
  }

  page.addEventListener("submit", function (e) {
    var kind = e.target.getAttribute("data-kind");
    if (kind) { e.preventDefault(); send(kind); }
  });

  // The other photos of a card: a tap on its right half shows the next one,
  // on its left half the previous one.
  function flip(card, step) {
    var photos = card.querySelectorAll(".deck-photos img");
    if (photos.length < 2) { return; }
    var shown = 0;
    photos.forEach(function (p, i) { if (!p.hidden) { shown = i; } });
    var to = (shown + step + photos.length) % photos.length;
    photos[shown].hidden = true;
    photos[to].hidden = false;
    card.querySelectorAll(".photo-dots li").forEach(function (d, i) { d.classList.toggle("on", i === to); });
  }

  document.addEventListener("keydown", function (e) {
    var on = e.target && e.target.tagName;
    if (/INPUT|TEXTAREA|SELECT/.test(on) || e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (matchScreen && !matchScreen.hidden) { return; }
    if (e.key === " ") {
      if (top() && !/BUTTON|A/.test(on)) { e.preventDefault(); flip(top(), 1); }
      return;
    }
    var kind = { ArrowRight: "like", ArrowLeft: "dislike", ArrowUp: "superlike", Backspace: "rewind" }[e.key];
    if (kind) { e.preventDefault(); send(kind); }
  });

  if (!deck) { return; }
  // Dragging: the card follows the pointer, turns, and stamps like or nope.
  var drag = null;
  function stamps(card, dx, dy) {
    var like = card.querySelector(".stamp-like"), nope = card.querySelector(".stamp-nope"), sup = card.querySelector(".stamp-super");
    like.style.opacity = String(Math.max(0, Math.min(1, dx / THRESHOLD)));
    nope.style.opacity = String(Math.max(0, Math.min(1, -dx / THRESHOLD)));
    sup.style.opacity = String(Math.max(0, Math.min(1, -dy / THRESHOLD - Math.abs(dx) / THRESHOLD)));
  }
  deck.addEventListener("pointerdown", function (e) {
    var card = top();
    if (!card || !card.contains(e.target) || e.target.closest("a") || e.button > 0) { return; }
    drag = { card: card, x: e.clientX, y: e.clientY, dx: 0, dy: 0, id: e.pointerId };
    card.classList.remove("back");
    card.setPointerCapture(e.pointerId);
  });
  deck.addEventListener("pointermove", function (e) {
    if (!drag || e.pointerId !== drag.id) { return; }
    drag.dx = e.clientX - drag.x;
    drag.dy = e.clientY - drag.y;
    drag.card.style.transform = "translate(" + drag.dx + "px, " + drag.dy + "px) rotate(" + (drag.dx / 18) + "deg)";
    stamps(drag.card, drag.dx, drag.dy);
  });
  function release(e) {
    if (!drag || e.pointerId !== drag.id) { return; }
    var d = drag;
    drag = null;
    var moved = Math.abs(d.dx) + Math.abs(d.dy);
    var kind = Math.abs(d.dx) > THRESHOLD && Math.abs(d.dx) > Math.abs(d.dy) ? (d.dx > 0 ? "like" : "dislike")
      : d.dy < -THRESHOLD ? "superlike" : null;
    if (kind && !refusal(kind) && e.type === "pointerup") { send(kind); return; }
    d.card.classList.add("back");
    d.card.style.transform = "";
    stamps(d.card, 0, 0);
    if (kind) { send(kind); return; } // refused: says why
    if (moved < 6 && e.type === "pointerup") {
      var box = d.card.getBoundingClientRect();
      flip(d.card, e.clientX > box.left + box.width / 2 ? 1 : -1);
    }
  }
  deck.addEventListener("pointerup", release);
  deck.addEventListener("pointercancel", release);
})();
