// "Try a test payment": pays through the browser SDK exactly as a merchant's page would.
(function () {
  "use strict";

  var form = document.getElementById("try-form");
  if (!form) return;
  var output = document.getElementById("try-result");
  var hint = document.getElementById("try-result-hint");

  var payment = document.getElementById("try-payment");

  // The payment's page in the console (Payments), once the result names its imp_uid.
  function linkPayment(impUid) {
    if (!impUid || !payment) return;
    var link = payment.querySelector("a");
    link.href = link.dataset.href.replace("__imp_uid__", encodeURIComponent(impUid));
    payment.classList.remove("d-none");
  }

  function show(rsp) {
    output.textContent = JSON.stringify(rsp, null, 2);
    output.classList.remove("d-none");
    if (hint) hint.classList.add("d-none");
    linkPayment(rsp && rsp.imp_uid);
  }

  // Back from the window with m_redirect_url: the query names the payment.
  linkPayment(new URLSearchParams(window.location.search).get("imp_uid"));

  function orderNumber() {
    var random = Math.random().toString(36).slice(2, 8);
    return "try-" + new Date().getTime() + "-" + random;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = form.dataset;
    if (data.tier) {
      window.IMP.agency(data.impCode, data.tier);
    } else {
      window.IMP.init(data.impCode);
    }
    var params = {
      pg: data.pg,
      pay_method: form.elements.pay_method.value,
      merchant_uid: orderNumber(),
      amount: Number(form.elements.amount.value),
      name: form.elements.name.value,
      buyer_name: form.elements.buyer_name.value
    };
    if (form.elements.redirect.checked) {
      params.m_redirect_url = window.location.href.split("?")[0].split("#")[0];
    }
    window.IMP.request_pay(params, show);
  });
})();
