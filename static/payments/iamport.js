/*!
 * PG Console sandbox: the i'mport (PortOne V1) browser SDK's `IMP` object.
 * IMP.init(code), IMP.agency(code, tier), IMP.request_pay(params[, callback]), IMP.close();
 * with params.customer_uid the window issues a billing key (amount 0: the key only).
 * Without a callback, request_pay returns a Promise of the rsp (as PortOne's SDK).
 * No dependencies, ES5. The payment window is this console's sandbox page: a full-screen
 * overlay with an iframe; on a mobile device with m_redirect_url the page itself goes there
 * and comes back (on a PC the callback runs, m_redirect_url is not used, as at PortOne).
 */
(function (window, document) {
  "use strict";

  var WINDOW_PATH = "/sandbox/pay/";
  var MESSAGE_SOURCE = "pgconsole-sandbox";
  var Z_INDEX = "2147483647";

  // The console's origin, from this script's own address.
  function scriptSrc() {
    if (document.currentScript && document.currentScript.src) {
      return document.currentScript.src;
    }
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/js\/iamport[^\/]*\.js(\?|#|$)/.test(scripts[i].src)) {
        return scripts[i].src;
      }
    }
    return "";
  }

  function originOf(url) {
    var a = document.createElement("a");
    a.href = url;
    var port = a.port;
    if ((a.protocol === "http:" && port === "80") || (a.protocol === "https:" && port === "443")) {
      port = "";
    }
    return a.protocol + "//" + a.hostname + (port ? ":" + port : "");
  }

  var CONSOLE_ORIGIN = originOf(scriptSrc() || window.location.href);

  function pageOrigin() {
    if (window.location.origin && window.location.origin !== "null") {
      return window.location.origin;
    }
    return /^https?:$/.test(window.location.protocol) ? originOf(window.location.href) : "";
  }

  var state = { code: null, tier: null, open: null };
  var counter = 0;

  function isObject(value) {
    return value !== null && typeof value === "object" && !(value instanceof Array);
  }

  function failure(params, message) {
    return {
      success: false,
      imp_success: false,
      imp_uid: null,
      merchant_uid: isObject(params) && params.merchant_uid != null ? String(params.merchant_uid) : null,
      error_code: "F400",
      error_msg: message
    };
  }

  function respond(callback, rsp) {
    if (typeof callback === "function") {
      callback(rsp);
    } else if (window.console && window.console.error) {
      window.console.error("IMP.request_pay: " + rsp.error_msg);
    }
  }

  // A phone or a tablet: PortOne's SDK goes to m_redirect_url there, and runs the callback on a PC.
  function isMobileDevice() {
    return /Mobi|Android|iPhone|iPad|iPod/i.test((window.navigator && window.navigator.userAgent) || "");
  }

  // i'mport reads a string of digits ("1000") as that amount.
  function numeric(value) {
    if (typeof value === "string" && /^\s*[0-9]+(\.0*)?\s*$/.test(value)) {
      return Number(value);
    }
    return value;
  }

  // What the SDK refuses before opening anything; the console checks the rest.
  function invalid(params) {
    if (!state.code) {
      return "Call IMP.init() with your merchant code before IMP.request_pay().";
    }
    if (!isObject(params)) {
      return "IMP.request_pay() takes an object of payment parameters.";
    }
    if (state.open) {
      return "A payment window is open already.";
    }
    var amount = numeric(params.amount);
    // With customer_uid the window issues a billing key: 0 issues the key only.
    var billingKey = params.customer_uid != null && String(params.customer_uid) !== "";
    if (typeof amount !== "number" || !isFinite(amount) || amount < 0 || Math.floor(amount) !== amount) {
      return billingKey ? "amount must be a whole number of won, 0 or more."
        : "amount must be a whole number of won greater than 0.";
    }
    if (amount === 0 && !billingKey) {
      return "amount must be a whole number of won greater than 0.";
    }
    if (params.merchant_uid == null || String(params.merchant_uid) === "") {
      return "merchant_uid is required.";
    }
    if (!(params.m_redirect_url && isMobileDevice()) && !pageOrigin()) {
      return "This page has no http(s) origin: open it over http(s), or set m_redirect_url on a mobile device.";
    }
    return null;
  }

  function field(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  function buildForm(params, target, redirect) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = CONSOLE_ORIGIN + WINDOW_PATH;
    form.target = target;
    form.acceptCharset = "UTF-8";
    form.style.display = "none";
    for (var key in params) {
      if (!Object.prototype.hasOwnProperty.call(params, key)) continue;
      if (key === "imp_code" || key === "tier" || key === "origin") continue;
      if (key === "m_redirect_url" && !redirect) continue;  // a PC: the callback, not a redirect
      var value = params[key];
      if (value === undefined || value === null || typeof value === "function") continue;
      field(form, key, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    field(form, "imp_code", state.code);
    if (state.tier) field(form, "tier", state.tier);
    field(form, "origin", pageOrigin());
    return form;
  }

  function isMobile() {
    return (window.innerWidth || document.documentElement.clientWidth) < 576;
  }

  function openModal() {
    counter += 1;
    var name = "pgconsole_sandbox_" + new Date().getTime() + "_" + counter;
    var overlay = document.createElement("div");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", "Payment window");
    var s = overlay.style;
    s.position = "fixed";
    s.top = s.right = s.bottom = s.left = "0";
    s.zIndex = Z_INDEX;
    s.background = "rgba(0, 0, 0, 0.55)";
    s.display = "flex";
    s.alignItems = "center";
    s.justifyContent = "center";

    var iframe = document.createElement("iframe");
    iframe.name = name;
    iframe.title = "Payment window";
    var f = iframe.style;
    f.border = "0";
    f.background = "#fff";
    if (isMobile()) {
      f.width = "100%";
      f.height = "100%";
    } else {
      f.width = "480px";
      f.maxWidth = "100%";
      f.height = "680px";
      f.maxHeight = "100%";
      f.borderRadius = "8px";
      f.boxShadow = "0 10px 40px rgba(0, 0, 0, 0.35)";
    }
    overlay.appendChild(iframe);
    document.body.appendChild(overlay);
    return { overlay: overlay, iframe: iframe, name: name };
  }

  function closeModal(open) {
    window.removeEventListener("message", open.listener, false);
    if (open.overlay.parentNode) open.overlay.parentNode.removeChild(open.overlay);
    if (state.open === open) state.open = null;
  }

  function request_pay(params, callback) {
    if (typeof callback !== "function" && typeof window.Promise === "function") {
      return new window.Promise(function (resolve) { pay(params, resolve); });
    }
    pay(params, callback);
  }

  function pay(params, callback) {
    var problem = invalid(params);
    if (problem) {
      respond(callback, failure(params, problem));
      return;
    }
    var sent = {};
    for (var key in params) {
      if (Object.prototype.hasOwnProperty.call(params, key)) sent[key] = params[key];
    }
    sent.amount = numeric(params.amount);
    if (params.m_redirect_url && isMobileDevice()) {
      var page = buildForm(sent, "_self", true);
      document.body.appendChild(page);
      page.submit();
      return;
    }
    var open = openModal();
    open.done = false;
    open.callback = callback;
    open.params = params;
    open.listener = function (event) {
      if (event.origin !== CONSOLE_ORIGIN || event.source !== open.iframe.contentWindow) return;
      var data = event.data;
      if (!isObject(data) || data.source !== MESSAGE_SOURCE || !isObject(data.rsp) || open.done) return;
      open.done = true;
      closeModal(open);
      if (typeof callback === "function") callback(data.rsp);
    };
    window.addEventListener("message", open.listener, false);
    state.open = open;
    var form = buildForm(sent, open.name, false);
    document.body.appendChild(form);
    form.submit();
    form.parentNode.removeChild(form);
  }

  // IMP.close(): the shop closes the open window; the callback hears that the buyer stopped.
  function close() {
    var open = state.open;
    if (!open || open.done) return;
    open.done = true;
    closeModal(open);
    var rsp = failure(open.params, "The payment window was closed (IMP.close).");
    rsp.error_code = "F1002";
    if (typeof open.callback === "function") open.callback(rsp);
  }

  window.IMP = {
    init: function (code) {
      state.code = code == null ? null : String(code);
      state.tier = null;
    },
    agency: function (code, tier) {
      state.code = code == null ? null : String(code);
      state.tier = tier == null ? null : String(tier);
    },
    request_pay: request_pay,
    close: close
  };
})(window, document);
