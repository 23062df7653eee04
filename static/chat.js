// Progressive enhancement of chat: the form and the pages work without it.
// One WebSocket (/ws/chat) per page: new messages appear without reloading,
// the composer sends over the socket, messages are marked read while the
// conversation is open, unread badges follow, and a lost socket reconnects
// with back-off, asking for what it missed (?after=the last id seen).
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

  // The page's counts and messages are as of this id: the socket asks only
  // for what came after it, so nothing already counted is counted again.
  var mark = document.querySelector("[data-chat-since]");
  if (mark) { lastId = Number(mark.getAttribute("data-chat-since")) || 0; }
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
    time.textContent = frame.sent_at.slice(0, 16).replace("T", " ") + " UTC";
    li.appendChild(p);
    li.appendChild(time);
    list.appendChild(li);
    var empty = chat.querySelector("[data-chat-empty]");
    if (empty) { empty.remove(); }
    li.scrollIntoView({ block: "end" });
  }

  function onFrame(frame) {
    if (frame.type === "message") {
      lastId = Math.max(lastId, frame.id);
      if (frame.match_id === openMatch) {
        show(frame);
        if (frame.from !== me && document.visibilityState === "visible") {
          send({ type: "read", match_id: openMatch, up_to: frame.id });
        }
      } else if (frame.from !== me) {
        bump(total, 1);
        bump(document.querySelector("[data-unread='" + frame.match_id + "']"), 1);
      }
    } else if (frame.type === "read" && frame.by === me) {
      var badge = document.querySelector("[data-unread='" + frame.match_id + "']");
      if (badge) { bump(total, -Number(badge.textContent || "0")); bump(badge, -Number(badge.textContent || "0")); }
    } else if (frame.type === "closed" && frame.match_id === openMatch) {
      closed = true;
      if (composer) { composer.querySelectorAll("textarea, button").forEach(function (el) { el.disabled = true; }); }
      say(chat.getAttribute("data-closed-text") || "");
    } else if (frame.type === "signed_out") {
      // Banned, or signed out elsewhere: this page is no longer ours.
      closed = true;
      window.location.href = "/login?notice=signed_out";
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
    socket = new WebSocket(scheme + location.host + "/ws/chat?after=" + lastId);
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

  if (composer) {
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
