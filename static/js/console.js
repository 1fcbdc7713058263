// PG Console behaviour. Loaded as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Fallback for plain-http hosts other than localhost.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "position-absolute top-0 start-0 opacity-0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      ok ? resolve() : reject(new Error("copy failed"));
    });
  }

  // <button data-copy="value" [data-copied-label="Copied"]>Copy</button>
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    copyText(button.dataset.copy).then(function () {
      button.classList.add("copied");
      button.textContent = button.dataset.copiedLabel || (document.documentElement.lang === "ko" ? "복사됨" : "Copied");
      setTimeout(function () {
        button.classList.remove("copied");
        button.textContent = original;
      }, 1500);
    });
  });

  // <button data-remove-row>: remove the table row it sits in (e.g. a whitelist rule).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-row]");
    if (button) button.closest("tr").remove();
  });

  // <form data-watch-unsaved> with a [data-unsaved-note] inside: once a field differs from
  // what the page was loaded with, show the note (e.g. "Send test goes to the saved URL").
  function formState(form) {
    return Array.prototype.map.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden") return "";
      return el.name + "=" + ((el.type === "checkbox" || el.type === "radio") ? el.checked : el.value);
    }).join("&");
  }
  document.querySelectorAll("form[data-watch-unsaved]").forEach(function (form) {
    var loaded = formState(form);
    var note = form.querySelector("[data-unsaved-note]");
    if (!note) return;
    var update = function () { note.classList.toggle("d-none", formState(form) === loaded); };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
  });

  // <select data-pg-code-select> (a channel's PG code): the fields marked
  // data-pg-codes="code …" show only while one of their codes is chosen.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-pg-code-select]");
    if (!select || !select.form) return;
    select.form.querySelectorAll("[data-pg-codes]").forEach(function (wrap) {
      wrap.hidden = wrap.dataset.pgCodes.split(" ").indexOf(select.value) < 0;
    });
  });

  // A page opened at the anchor of an element marked data-flash-target (a channel's card,
  // after an action on it) shows the page's messages in that element, where the browser
  // jumps, rather than at the top of the page, out of view.
  (function () {
    var messages = document.querySelector(".messages");
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!messages || !target || !target.hasAttribute("data-flash-target")) return;
    var body = target.querySelector(".card-body") || target;
    body.insertBefore(messages, body.firstChild);
    target.scrollIntoView({ block: "start" });
  })();

  // <form data-confirm="Are you sure?">: ask before a destructive action.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);
})();
