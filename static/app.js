// The pages' few behaviours, kept out of the HTML so the Content-Security-Policy can forbid inline
// script (marketplace/security_headers.py). Listeners sit on the document, so they also cover
// content that htmx swaps in. Every form still works without JavaScript.
"use strict";

// <select data-submit-on-change>: choosing an option submits its form (the organization switcher,
// a member's role); without JavaScript a <noscript> button next to it does.
document.addEventListener("change", function (event) {
  var select = event.target;
  if (select instanceof HTMLSelectElement && select.hasAttribute("data-submit-on-change") && select.form) {
    select.form.submit();
  }
});

// <form data-confirm="question">: asks before submitting (deleting a saved search).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
