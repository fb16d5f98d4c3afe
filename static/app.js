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

// The landing page's search suggestions (#suggestions, filled by htmx): the arrow keys move between the
// search box and the suggestions, Escape closes them, and so does a click elsewhere.
document.addEventListener("keydown", function (event) {
  var box = document.getElementById("suggestions");
  var input = document.getElementById("landing-q");
  if (!box || !input || !(event.target === input || box.contains(event.target))) {
    return;
  }
  var links = Array.prototype.slice.call(box.querySelectorAll("a"));
  var at = links.indexOf(event.target);
  if (event.key === "Escape") {
    box.innerHTML = "";
    input.focus();
  } else if (event.key === "ArrowDown" && links.length) {
    event.preventDefault();
    links[Math.min(at + 1, links.length - 1)].focus();
  } else if (event.key === "ArrowUp" && at >= 0) {
    event.preventDefault();
    (at === 0 ? input : links[at - 1]).focus();
  }
});
document.addEventListener("click", function (event) {
  var box = document.getElementById("suggestions");
  if (box && !box.contains(event.target) && event.target !== document.getElementById("landing-q")) {
    box.innerHTML = "";
  }
});
