// Herald's only script besides htmx: it tells the server the browser's
// time zone (for times shown in the viewer's zone) and asks before forms
// marked data-confirm are sent. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("herald_tz=" + tz) === -1) {
      document.cookie = "herald_tz=" + tz + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: times stay in UTC */ }
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  }, true);
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) { return; }
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.textContent.trim());
      btn.textContent = "Copied";
    }
  });
})();
