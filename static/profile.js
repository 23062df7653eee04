// The profile form, on top of fields that work without it: "Use my
// location" fills the position from the browser (rounded to 0.01°, about a
// kilometre; the server rounds it again), and a member who never chose a
// time zone gets the browser's proposed.
(function () {
  "use strict";
  var zone = document.getElementById("time_zone");
  if (zone && zone.getAttribute("data-chosen") !== "true" && window.Intl) {
    var mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var known = Array.prototype.some.call(zone.options, function (o) { return o.value === mine; });
    if (mine && known) { zone.value = mine; }
  }
  var locate = document.querySelector("[data-locate]");
  var status = document.querySelector("[data-locate-status]");
  var lat = document.getElementById("latitude");
  var lng = document.getElementById("longitude");
  if (!locate || !navigator.geolocation || !lat || !lng) { return; }
  locate.hidden = false;
  locate.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (p) {
      lat.value = p.coords.latitude.toFixed(2);
      lng.value = p.coords.longitude.toFixed(2);
      if (status) { status.textContent = status.getAttribute("data-done"); }
    }, function () {
      if (status) { status.textContent = status.getAttribute("data-failed"); }
    }, { maximumAge: 600000, timeout: 15000 });
  });
})();
