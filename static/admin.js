// The admin console: a destructive action (ban, reject, end sessions) asks
// before it goes. Without JavaScript the form goes at once; the sensitive
// ones still ask for the staff member's password on the server.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) { e.preventDefault(); }
  });
})();
