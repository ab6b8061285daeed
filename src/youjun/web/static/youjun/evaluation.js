/* 优均 evaluation pages: sortable tables (click a header) and row filters. No dependencies. */
(function () {
  "use strict";
  var collator = new Intl.Collator("zh-Hans-CN", { numeric: true });

  function cellKey(cell, numeric) {
    if (!cell) return numeric ? NaN : "";
    var raw = cell.getAttribute("data-v");
    if (raw === null) raw = cell.textContent.trim();
    if (!numeric) return raw;
    var n = parseFloat(raw.replace(/,/g, ""));
    return isNaN(n) ? NaN : n;
  }

  function compare(a, b, numeric) {
    if (!numeric) return collator.compare(a, b);
    if (isNaN(a)) return isNaN(b) ? 0 : 1; // missing values last
    if (isNaN(b)) return -1;
    return a - b;
  }

  function sortTable(table, th, col) {
    var numeric = th.getAttribute("data-type") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.map.call(body.rows, function (row, i) {
      return { row: row, key: cellKey(row.cells[col], numeric), i: i };
    });
    rows.sort(function (x, y) {
      var c = compare(x.key, y.key, numeric);
      if (!ascending && !(numeric && (isNaN(x.key) || isNaN(y.key)))) c = -c;
      return c || x.i - y.i;
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r.row); });
    body.appendChild(frag);
  }

  function makeSortable(table) {
    var head = table.tHead;
    if (!head) return;
    var single = head.rows.length === 1;
    head.querySelectorAll("th").forEach(function (th) {
      var col = th.hasAttribute("data-col") ? parseInt(th.getAttribute("data-col"), 10) : (single ? th.cellIndex : -1);
      if (col < 0 || !th.textContent.trim()) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sortTable(table, th, col); });
    });
  }

  function makeFilter(form) {
    var table = document.getElementById(form.getAttribute("data-table"));
    if (!table) return;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var texts = rows.map(function (r) { return (r.cells[0].textContent + " " + r.cells[1].textContent).toLowerCase(); });
    var output = form.querySelector("output");
    function apply() {
      var q = (form.elements.q ? form.elements.q.value : "").trim().toLowerCase();
      var stage = form.elements.stage ? form.elements.stage.value : "";
      var verdict = form.elements.verdict ? form.elements.verdict.value : "";
      var shown = 0;
      rows.forEach(function (row, i) {
        var ok = (!q || texts[i].indexOf(q) !== -1) &&
          (!stage || row.getAttribute("data-stage") === stage) &&
          (!verdict || row.getAttribute("data-passed") === verdict);
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      if (output) output.textContent = "显示 " + shown + " / " + rows.length;
    }
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.hidden = false;
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    document.querySelectorAll("form.filters[data-table]").forEach(makeFilter);
  });
})();
