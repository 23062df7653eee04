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

// City suggestions: the bundled GeoNames list, asked as the member types;
// picking one fills the position (the server does the same for a picked
// city sent without one, so the form works without this script).
(function () {
  "use strict";
  var city = document.getElementById("city");
  var list = document.getElementById("city-suggestions");
  var lat = document.getElementById("latitude");
  var lng = document.getElementById("longitude");
  if (!city || !list || !lat || !lng || !window.fetch) { return; }
  var url = city.getAttribute("data-cities");
  var known = {};
  var asked = "";
  function pick() {
    var c = known[city.value];
    if (c) {
      lat.value = c.latitude.toFixed(2);
      lng.value = c.longitude.toFixed(2);
    }
  }
  function ask() {
    var q = city.value.trim();
    if (q.length < 2 || q === asked || known[city.value]) { return; }
    asked = q;
    fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (found) {
        if (q !== asked) { return; }
        list.textContent = "";
        found.forEach(function (c) {
          known[c.label] = c;
          var o = document.createElement("option");
          o.value = c.label;
          list.appendChild(o);
        });
        list.setAttribute("data-count", String(found.length));
      })
      .catch(function () {});
  }
  city.addEventListener("input", function () { pick(); ask(); });
  city.addEventListener("change", pick);
})();
