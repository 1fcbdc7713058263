// The sandbox payment window. Loaded as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // One click per window: once a button's form is sent, every button is disabled (each form
  // carries its action in a hidden field, so nothing depends on the clicked button's value).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-window-action")) return;
    if (document.documentElement.getAttribute("data-sending")) {
      event.preventDefault();
      return;
    }
    document.documentElement.setAttribute("data-sending", "1");
    setTimeout(function () {
      var buttons = document.querySelectorAll("[data-window-action] button, [data-window-action] select");
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
  });

  // The result for the shop's page (the SDK in the page that holds this iframe).
  var node = document.getElementById("pgconsole-message");
  if (node && window.parent && window.parent !== window) {
    var message = JSON.parse(node.textContent);
    window.parent.postMessage(message.data, message.origin);
  }
})();
