(function () {
  "use strict";
  var table = document.getElementById("members");
  var form = document.getElementById("filters");
  if (!table || !form) { return; }
  var tbody = table.tBodies[0];
  var shown = document.getElementById("shown");
  var ORDER = { FAIL: 0, ERROR: 1, EXEMPT: 2, SKIPPED: 3, PASS: 4,
                critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var items = null;

  function rank(value) {
    return Object.prototype.hasOwnProperty.call(ORDER, value) ? ORDER[value] : 99;
  }
  var timer = 0;

  function load() {
    if (items) { return items; }
    items = [];
    var rows = tbody.rows;
    for (var i = 0; i < rows.length; i++) {
      var cells = rows[i].cells, values = [];
      for (var j = 0; j < cells.length; j++) { values.push(cells[j].textContent); }
      items.push({ tr: rows[i], index: i, values: values,
                   text: values.join("\u0001").toLowerCase() });
    }
    return items;
  }

  function apply() {
    var all = load();
    var q = form.elements.q.value.trim().toLowerCase();
    var result = form.elements.result.value;
    var severity = form.elements.severity.value;
    var type = form.elements.type.value;
    var n = 0;
    for (var i = 0; i < all.length; i++) {
      var it = all[i], v = it.values;
      var ok = (!result || v[4] === result) && (!severity || v[5] === severity) &&
               (!type || v[3] === type) && (!q || it.text.indexOf(q) !== -1);
      if (it.tr.hidden === ok) { it.tr.hidden = !ok; }
      if (ok) { n++; }
    }
    shown.textContent = n.toLocaleString("en-US");
  }

  function sortBy(th) {
    var col = Number(th.getAttribute("data-col"));
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    var all = load().slice();
    all.sort(function (a, b) {
      var x = a.values[col], y = b.values[col], c;
      c = (col === 4 || col === 5) ? rank(x) - rank(y) : collator.compare(x, y);
      return c !== 0 ? sign * c : a.index - b.index;
    });
    var frag = document.createDocumentFragment();
    for (var k = 0; k < all.length; k++) { frag.appendChild(all[k].tr); }
    tbody.appendChild(frag);
  }

  document.documentElement.classList.add("js");
  if (tbody.rows.length <= 2000) { table.classList.add("sticky"); }
  form.hidden = false;
  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  form.addEventListener("change", apply);
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  table.tHead.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target.closest("th[data-col]") : null;
    if (target) { sortBy(target); }
  });
})();
