// The pages' few behaviours, kept out of the HTML so the Content-Security-Policy can forbid inline
// script (marketplace/security_headers.py). Listeners sit on the document, so they also cover
// content that htmx swaps in. Every form still works without JavaScript.
"use strict";

// Styles that only make sense when this script runs (a folded menu, the filters' panel) hang on it.
document.documentElement.classList.add("js");

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

// The phone's menu button: shown only once this script runs, so without JavaScript the navigation
// stays open. The CSS folds the navigation only below 768 px; wider, the button is not displayed.
(function () {
  var header = document.querySelector("[data-menu]");
  var toggle = header && header.querySelector(".nav-toggle");
  var nav = header && document.getElementById(toggle ? toggle.getAttribute("aria-controls") : "");
  if (!toggle || !nav) {
    return;
  }
  toggle.hidden = false;
  header.classList.add("menu-ready");
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
})();

// The person's menu (a <details>) closes on a click elsewhere and on Escape, as menus do.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
    if (!menu.contains(event.target)) {
      menu.open = false;
    }
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") {
    return;
  }
  document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});

// Search on a phone: the filters' panel opens from the button above the results. Ticking a filter
// makes htmx replace the results and the panel with them: the new panel opens again, with the
// focus back on the same field, so the person carries on where they were.
function setFiltersOpen(open, focusAfter) {
  var panel = document.getElementById("search-facets");
  var toggle = document.querySelector(".filters-toggle");
  if (!panel || !toggle) {
    return;
  }
  panel.classList.toggle("open", open);
  toggle.setAttribute("aria-expanded", String(open));
  document.body.classList.toggle("filters-open", open);
  if (focusAfter) {
    (open ? panel.querySelector("input, select, button") : toggle).focus();
  }
}
document.addEventListener("click", function (event) {
  var target = event.target instanceof Element ? event.target : null;
  if (target && target.closest(".filters-toggle")) {
    setFiltersOpen(document.getElementById("search-facets").classList.contains("open") === false, true);
  } else if (target && target.closest("[data-filters-close]")) {
    setFiltersOpen(false, true);
  }
});
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape" && document.body.classList.contains("filters-open")) {
    setFiltersOpen(false, true);
  }
});
var focusedFilter = null;
document.addEventListener("htmx:beforeSwap", function () {
  var active = document.activeElement;
  focusedFilter = document.body.classList.contains("filters-open") && active && active.name ? { name: active.name, value: active.value } : null;
});
// After the settle: htmx puts back the old attributes of elements that keep their id until then.
document.addEventListener("htmx:afterSettle", function () {
  if (!document.body.classList.contains("filters-open")) {
    return;
  }
  setFiltersOpen(true, false);
  if (focusedFilter) {
    var fields = document.querySelectorAll("#search-facets [name]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].name === focusedFilter.name && (fields[i].type !== "checkbox" || fields[i].value === focusedFilter.value)) {
        fields[i].focus();
        break;
      }
    }
  }
});

// An event's registration form: "select all" ticks or clears every slot of its day, and shows
// whether they all are ticked as slots are ticked one by one.
document.addEventListener("change", function (event) {
  var box = event.target;
  var day = box.closest && box.closest("fieldset.slot-day");
  if (!day) {
    return;
  }
  var all = day.querySelector("[data-select-all]");
  var slots = day.querySelectorAll('input[name="slots"]');
  var ticked = 0;
  for (var i = 0; i < slots.length; i++) {
    if (box === all) {
      slots[i].checked = all.checked;
    }
    ticked += slots[i].checked ? 1 : 0;
  }
  all.checked = ticked === slots.length;
});
