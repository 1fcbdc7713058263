// "Try a test payment": pays through the browser SDK exactly as a merchant's page would.
(function () {
  "use strict";

  var form = document.getElementById("try-form");
  if (!form) return;
  var output = document.getElementById("try-result");
  var hint = document.getElementById("try-result-hint");

  function show(rsp) {
    output.textContent = JSON.stringify(rsp, null, 2);
    output.classList.remove("d-none");
    if (hint) hint.classList.add("d-none");
  }

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
