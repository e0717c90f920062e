// The report's only behaviour: filter the matrix to problem rows, fold and unfold evidence.
(function () {
  "use strict";
  var onlyProblems = document.getElementById("only-problems");
  if (onlyProblems) {
    onlyProblems.addEventListener("change", function () {
      document.body.classList.toggle("only-problems", onlyProblems.checked);
    });
  }
  function setAll(open) {
    var items = document.querySelectorAll("details.failure");
    for (var i = 0; i < items.length; i++) { items[i].open = open; }
  }
  var expand = document.getElementById("expand-all");
  var collapse = document.getElementById("collapse-all");
  if (expand) { expand.addEventListener("click", function () { setAll(true); }); }
  if (collapse) { collapse.addEventListener("click", function () { setAll(false); }); }
  // A link to a failure's check opens it.
  if (location.hash) {
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
})();
