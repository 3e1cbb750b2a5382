(function () {
  "use strict";
  /* Members not listed as rows of the page (large reports) come from the JSON data block
     #more-members; at most PAGE rows are listed at a time after a filter or sort. */
  var table = document.getElementById("members");
  var form = document.getElementById("filters");
  if (!table || !form) { return; }
  var tbody = table.tBodies[0];
  var shown = document.getElementById("shown");
  var moreBox = document.getElementById("more-rows");
  var moreButton = document.getElementById("show-more");
  var data = document.getElementById("more-members");
  var PAGE = 1000;
  var ORDER = { FAIL: 0, ERROR: 1, EXEMPT: 2, SKIPPED: 3, PASS: 4,
                critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var items = null;   /* every member: { tr, index, values, text } */
  var view = null;    /* the members matching the filters, in display order */
  var listed = tbody.rows.length;  /* view[0 .. listed) are the rows of tbody */
  var total = listed + (data ? Number(data.getAttribute("data-count")) : 0);
  var sortCol = -1, sortDir = "";
  var sorted = {};    /* "col dir" -> every member in that order */
  var timer = 0;

  function rank(value) {
    return Object.prototype.hasOwnProperty.call(ORDER, value) ? ORDER[value] : 99;
  }
  function fmt(n) { return n.toLocaleString("en-US"); }

  function load() {
    if (items) { return items; }
    items = [];
    var rows = tbody.rows, i, j;
    for (i = 0; i < rows.length; i++) {
      var cells = rows[i].cells, values = [];
      for (j = 0; j < cells.length; j++) { values.push(cells[j].textContent); }
      items.push({ tr: rows[i], index: i, values: values, text: null });
    }
    if (data) {
      var more = JSON.parse(data.textContent);
      for (j = 0; j < more.length; j++) {
        items.push({ tr: null, index: items.length, values: more[j], text: null });
      }
    }
    return items;
  }

  function textOf(it) {
    if (it.text === null) { it.text = it.values.join("\u0001").toLowerCase(); }
    return it.text;
  }

  function rowOf(it) {
    if (!it.tr) {
      var tr = document.createElement("tr");
      tr.className = "s-" + String(it.values[4]).toLowerCase();
      for (var j = 0; j < it.values.length; j++) {
        var td = document.createElement("td");
        td.textContent = it.values[j];
        tr.appendChild(td);
      }
      it.tr = tr;
    }
    return it.tr;
  }

  function update() {
    var count = view ? view.length : total;
    shown.textContent = fmt(count);
    var rest = count - listed;
    moreBox.hidden = rest <= 0;
    if (rest > 0) {
      /* the words come from the page (data-text, translated with it): {n} and {rest} filled in */
      moreButton.textContent = (moreButton.getAttribute("data-text") || "")
        .replace("{n}", fmt(Math.min(rest, PAGE))).replace("{rest}", fmt(rest));
    }
  }

  function list(from, to) {
    var frag = document.createDocumentFragment();
    for (var i = from; i < to; i++) { frag.appendChild(rowOf(view[i])); }
    tbody.appendChild(frag);
    listed = to;
    update();
  }

  function order() {
    var all = load();
    if (sortCol < 0) { return all; }
    var key = sortCol + " " + sortDir;
    if (!sorted[key]) {
      var col = sortCol, sign = sortDir === "ascending" ? 1 : -1;
      sorted[key] = all.slice().sort(function (a, b) {
        var x = a.values[col], y = b.values[col];
        var c = (col === 4 || col === 5) ? rank(x) - rank(y) : collator.compare(x, y);
        return c !== 0 ? sign * c : a.index - b.index;
      });
    }
    return sorted[key];
  }

  function apply() {
    var q = form.elements.q.value.trim().toLowerCase();
    var result = form.elements.result.value;
    var severity = form.elements.severity.value;
    var type = form.elements.type.value;
    var all = order();
    view = [];
    for (var i = 0; i < all.length; i++) {
      var it = all[i], v = it.values;
      if ((!result || v[4] === result) && (!severity || v[5] === severity) &&
          (!type || v[3] === type) && (!q || textOf(it).indexOf(q) !== -1)) {
        view.push(it);
      }
    }
    tbody.textContent = "";
    list(0, Math.min(PAGE, view.length));
  }

  function sortBy(th) {
    sortCol = Number(th.getAttribute("data-col"));
    sortDir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", sortDir);
    apply();
  }

  function showMore() {
    if (!view) { view = load(); }  /* as loaded: the page's rows come first in this order */
    list(listed, Math.min(listed + PAGE, view.length));
  }

  document.documentElement.classList.add("js");
  if (listed <= 2000) { table.classList.add("sticky"); }
  form.hidden = false;
  update();
  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  form.addEventListener("change", apply);
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  moreButton.addEventListener("click", showMore);
  table.tHead.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target.closest("th[data-col]") : null;
    if (target) { sortBy(target); }
  });
})();
