/* Demo News site script (harmless).  The demo mirror removes every <script>,
 * so when this runs at all you are looking at the upstream page itself. */
(function () {
  "use strict";
  var stamp = document.querySelector("time[datetime]");
  if (stamp && window.console) {
    console.log("Demo News page published at " + stamp.getAttribute("datetime"));
  }
  window.dataLayer = window.dataLayer || [];
  window.dataLayer.push({ event: "page_view", path: location.pathname });
})();
