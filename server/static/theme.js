/* Follow the system's light or dark preference with Bootstrap 5.3's data-bs-theme.
   Loaded in <head> before the stylesheets, so a dark page never flashes light first. */
(function () {
  var dark = window.matchMedia("(prefers-color-scheme: dark)");
  function apply() {
    document.documentElement.setAttribute("data-bs-theme", dark.matches ? "dark" : "light");
  }
  apply();
  dark.addEventListener("change", apply);
})();
