// Progressive enhancement of chat: the form and the pages work without it.
// One WebSocket (/ws/chat) per logged-in page: new messages appear without
// reloading, the conversation list shows the newest message first, the
// composer sends over the socket (Enter sends, Shift+Enter a new line),
// messages are marked read while the conversation is open and "Seen"
// follows the other side's reading, the navigation's unread badge is live
// on every page, and a lost socket reconnects with back-off, asking for
// what it missed (?after=the last id seen).
(function () {
  "use strict";
  if (!window.WebSocket || !window.JSON) { return; }
  var chat = document.getElementById("chat");
  var openMatch = chat ? Number(chat.getAttribute("data-match-id")) : 0;
  var me = chat ? Number(chat.getAttribute("data-me")) : 0;
  var list = chat ? chat.querySelector("[data-messages]") : null;
  var composer = chat ? chat.querySelector(".composer") : null;
  var status = chat ? chat.querySelector("[data-chat-status]") : null;
  var total = document.querySelector("[data-unread-total]");
  var lastId = 0;
  var socket = null;
  var delay = 1000;
  var closed = false;
  // A form on its way to the server (not one this script sends itself).
  var submitting = false;
  document.addEventListener("submit", function (e) {
    if (!e.defaultPrevented) { submitting = true; }
  });

  // The page's counts and messages are as of this id: the socket asks only
  // for what came after it, so nothing already counted is counted again.
  var mark = document.querySelector("[data-chat-since]");
  if (mark) { lastId = Number(mark.getAttribute("data-chat-since")) || 0; }
  // A page without the mark (discover, settings…) knows no id: it takes
  // what arrives from now on, without a backlog, until it has seen one.
  var knows = !!mark;
  var conversations = document.querySelector(".conversation-list");
  var thread = chat ? chat.querySelector("[data-thread-body]") : null;
  var youText = document.querySelector("[data-you-text]");
  youText = youText ? youText.getAttribute("data-you-text") : "";
  if (list) {
    list.querySelectorAll("[data-message]").forEach(function (li) {
      lastId = Math.max(lastId, Number(li.getAttribute("data-message")));
    });
  }

  function say(text) { if (status) { status.textContent = text || ""; } }

  function bump(el, by) {
    if (!el) { return; }
    var n = Math.max(0, Number(el.textContent || "0") + by);
    el.textContent = String(n);
    el.hidden = n === 0;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function show(frame) {
    if (!list || list.querySelector("[data-message='" + frame.id + "']")) { return; }
    var li = document.createElement("li");
    li.className = "message" + (frame.from === me ? " mine" : "");
    li.setAttribute("data-message", String(frame.id));
    li.setAttribute("data-from", String(frame.from));
    var p = document.createElement("p");
    p.className = "body";
    p.textContent = frame.body;
    var time = document.createElement("time");
    time.setAttribute("datetime", frame.sent_at);
    time.textContent = clock(frame.sent_at);
    li.appendChild(p);
    li.appendChild(time);
    list.appendChild(li);
    var empty = chat.querySelector("[data-chat-empty]");
    if (empty) { empty.remove(); }
    li.scrollIntoView({ block: "end" });
  }

  // "14:05", in this browser's time zone (the page's own times are in the member's).
  function clock(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  // The conversation list: the newest message under the name, that
  // conversation first.
  function listed(frame) {
    if (!conversations) { return; }
    var item = conversations.querySelector("[data-match='" + frame.match_id + "']");
    if (!item) { return; }
    var snippet = item.querySelector(".snippet");
    if (snippet) { snippet.textContent = (frame.from === me ? youText + " " : "") + frame.body; }
    var time = item.querySelector("time");
    if (!time) {
      time = document.createElement("time");
      var line = item.querySelector(".line");
      if (line) { line.appendChild(time); }
    }
    time.setAttribute("datetime", frame.sent_at);
    time.textContent = clock(frame.sent_at);
    conversations.insertBefore(item, conversations.firstElementChild);
  }

  // "Seen" under my newest message the other member has read.
  function seen(upTo) {
    if (!list) { return; }
    var mine = null;
    list.querySelectorAll(".message.mine").forEach(function (li) {
      if (Number(li.getAttribute("data-message")) <= upTo) { mine = li; }
    });
    if (!mine || mine.querySelector("[data-seen]")) { return; }
    list.querySelectorAll("[data-seen]").forEach(function (el) { el.remove(); });
    var span = document.createElement("span");
    span.className = "seen";
    span.setAttribute("data-seen", "");
    span.textContent = chat.getAttribute("data-seen-text") || "";
    mine.appendChild(span);
  }

  function onFrame(frame) {
    if (frame.type === "message") {
      lastId = Math.max(lastId, frame.id);
      knows = true;
      listed(frame);
      if (frame.match_id === openMatch) {
        show(frame);
        if (frame.from !== me && document.visibilityState === "visible") {
          send({ type: "read", match_id: openMatch, up_to: frame.id });
        }
      } else if (frame.from !== me) {
        bump(total, 1);
        bump(document.querySelector("[data-unread='" + frame.match_id + "']"), 1);
      }
    } else if (frame.type === "read" && frame.by !== me && frame.match_id === openMatch) {
      seen(frame.up_to);
    } else if (frame.type === "read" && frame.by === me) {
      var badge = document.querySelector("[data-unread='" + frame.match_id + "']");
      if (badge) { bump(total, -Number(badge.textContent || "0")); bump(badge, -Number(badge.textContent || "0")); }
    } else if (frame.type === "closed" && frame.match_id === openMatch) {
      closed = true;
      if (composer) { composer.querySelectorAll("textarea, button").forEach(function (el) { el.disabled = true; }); }
      say(chat.getAttribute("data-closed-text") || "");
    } else if (frame.type === "signed_out") {
      // Banned, or signed out elsewhere: this page is no longer ours. A
      // form this page is submitting (logging out, deleting the account)
      // ends the session itself, and its answer says what happened.
      closed = true;
      if (!submitting) { window.location.href = "/login?notice=signed_out"; }
    } else if (frame.type === "error") {
      say(frame.message);
    }
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/chat" + (knows ? "?after=" + lastId : ""));
    socket.onopen = function () {
      delay = 1000;
      say("");
      document.documentElement.setAttribute("data-chat-socket", "open");
    };
    socket.onmessage = function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (err) { /* not ours */ }
    };
    socket.onclose = function (e) {
      socket = null;
      document.documentElement.removeAttribute("data-chat-socket");
      // 1008 "signed out" stays closed; any other close reconnects (1008
      // idle, 1001 the instance is stopping, 1011 it could not check the session).
      if (e.code === 1008 && e.reason === "signed out") { return; }
      if (closed && !openMatch) { return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
      if (chat) { say(chat.getAttribute("data-offline-text") || ""); }
    };
  }

  if (thread) { thread.scrollTop = thread.scrollHeight; }
  if (composer) {
    var box = composer.querySelector("textarea");
    // Enter sends; Shift+Enter (or an input method composing) is a new line.
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        if (composer.requestSubmit) { composer.requestSubmit(); } else { composer.submit(); }
      }
    });
    composer.addEventListener("submit", function (e) {
      var body = composer.querySelector("textarea");
      if (closed || !body || !body.value.trim()) { return; }
      if (send({ type: "send", match_id: openMatch, body: body.value, client_id: newId() })) {
        e.preventDefault();
        body.value = "";
      }
    });
  }
  connect();
}());
