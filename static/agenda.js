// The agenda's "Print" button (inline handlers are not allowed by the page's CSP).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});
