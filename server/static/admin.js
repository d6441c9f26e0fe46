/* The admin pages' few behaviours; every page still works without them.
   - A "select all" box ticks or clears every row box of its form, and shows a partial
     selection; the bulk buttons say how many rows they act on.
   - A choice list's "New…" reveals the name to type and the box to confirm it. */
(function () {
  "use strict";
  var NEW = "__new__";

  document.querySelectorAll("[data-select-all]").forEach(function (all) {
    var form = all.form;
    var rows = function () { return form.querySelectorAll("input[name=ids]"); };
    var counter = form.querySelector("[data-selected-count]");
    function update() {
      var boxes = rows(), ticked = 0;
      boxes.forEach(function (box) { if (box.checked) ticked += 1; });
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
      if (counter) counter.textContent = ticked ? ticked + " selected" : "none selected";
    }
    all.addEventListener("change", function () {
      rows().forEach(function (box) { box.checked = all.checked; });
      update();
    });
    form.addEventListener("change", function (event) {
      if (event.target.name === "ids") update();
    });
    update();
  });

  document.querySelectorAll("[data-new-for]").forEach(function (group) {
    var select = document.getElementById(group.dataset.newFor);
    if (!select) return;
    var text = group.querySelector("input[type=text]");
    function update() {
      var isNew = select.value === NEW;
      group.hidden = !isNew;
      if (text) text.required = isNew;
    }
    select.addEventListener("change", function () {
      update();
      if (select.value === NEW && text) text.focus();
    });
    update();
  });
})();
