"""The static site's stylesheet and scripts (kept as strings so every install has them).

Plain JavaScript with no libraries: the site must work from file:// with no network, so the
search index is a script (`search-index.js`), not fetched JSON, which file:// forbids.
"""

from __future__ import annotations

STYLE = """
:root { --fg: #1f1e1d; --muted: #6b6862; --line: #e4e1d9; --bg: #faf9f5; --human: #f0eee6;
        --accent: #c96442; --mark: #ffe58a; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--fg); background: var(--bg); }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
a { color: var(--accent); }
h1 { font-size: 1.6rem; margin: .2rem 0 .6rem; }
.facts { color: var(--muted); font-size: .9rem; margin: 0 0 1rem; padding: 0; list-style: none;
         display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; }
.summary { border-left: 3px solid var(--line); margin: 0 0 1rem; padding: .2rem .9rem;
           color: var(--muted); }
.controls { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; align-items: center; }
.controls input[type=search] { flex: 1 1 20rem; font-size: 1rem; padding: .5rem .7rem;
                               border: 1px solid var(--line); border-radius: .5rem; }
select, button { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line);
                 border-radius: .4rem; background: #fff; }
button { cursor: pointer; }
table.chats { width: 100%; border-collapse: collapse; font-size: .93rem; }
table.chats th { text-align: left; color: var(--muted); font-weight: 600; cursor: pointer;
                 border-bottom: 2px solid var(--line); padding: .4rem; white-space: nowrap; }
table.chats th[aria-sort=ascending]::after { content: " ▲"; }
table.chats th[aria-sort=descending]::after { content: " ▼"; }
table.chats td { border-bottom: 1px solid var(--line); padding: .45rem .4rem;
                 vertical-align: top; overflow-wrap: anywhere; }
table.chats td:first-child { min-width: 12rem; }
td.num, td.date { white-space: nowrap; color: var(--muted); }
tr.deleted td a { text-decoration: line-through; }
.uploads { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: 2rem; }
.uploads h2 { flex-basis: 100%; font-size: 1.1rem; margin: 0; }
.uploads figure { margin: 0; max-width: 100%; overflow-wrap: anywhere; }
.uploads img { max-width: 100%; max-height: 20rem; border: 1px solid var(--line);
               border-radius: .4rem; display: block; }
.uploads figcaption { color: var(--muted); font-size: .85rem; }
.snippet { color: var(--muted); font-size: .85rem; margin-top: .2rem; }
mark { background: var(--mark); color: inherit; padding: 0 .1rem; border-radius: .15rem; }
.count { color: var(--muted); font-size: .9rem; }
.msg { margin: 1.1rem 0; padding: .8rem 1.1rem; border-radius: .8rem; }
.msg.human { background: var(--human); }
.msg.assistant { background: #fff; border: 1px solid var(--line); }
.msg header { display: flex; gap: .75rem; align-items: baseline; font-size: .85rem;
              color: var(--muted); margin-bottom: .3rem; }
.msg header strong { color: var(--fg); font-size: .95rem; }
.sib { margin-left: auto; white-space: nowrap; }
.sib button { padding: 0 .45rem; }
.fork { color: var(--muted); font-size: .85rem; border-top: 1px dashed var(--line);
        padding-top: .4rem; }
.branchbar { position: sticky; top: 0; background: var(--bg); padding: .5rem 0;
             border-bottom: 1px solid var(--line); z-index: 1; }
details { margin: .5rem 0; border: 1px solid var(--line); border-radius: .5rem;
          padding: .3rem .7rem; background: #fdfcfa; }
details summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
.caption { font-weight: 600; margin: .6rem 0 .2rem; }
figure.code { margin: .5rem 0; }
figure.code figcaption { font-size: .8rem; color: var(--muted); }
pre { overflow-x: auto; padding: .7rem .9rem; border-radius: .5rem; background: #f6f5f1;
      font-size: .85rem; line-height: 1.45; }
code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; }
:not(pre) > code { background: #f0eee6; padding: .05rem .3rem; border-radius: .25rem; }
blockquote { border-left: 3px solid var(--line); margin-left: 0; padding-left: 1rem; }
.msg table { border-collapse: collapse; } .msg td, .msg th { border: 1px solid var(--line);
                                                            padding: .25rem .5rem; }
.badge { font-size: .75rem; border: 1px solid var(--line); border-radius: 1rem;
         padding: 0 .45rem; color: var(--muted); }
"""

INDEX_JS = r"""
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tbody tr"));
  var data = window.CLAUDE_ARCHIVE_INDEX || [];
  var lower = null;
  var q = document.getElementById("q"), org = document.getElementById("org"),
      project = document.getElementById("project"), deleted = document.getElementById("deleted"),
      count = document.getElementById("count"), body = document.querySelector("tbody");

  function escapeHtml(s) {
    return s.replace(/[&<>"]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c];
    });
  }
  function snippet(text, terms) {
    var low = text.toLowerCase(), at = -1, i;
    for (i = 0; i < terms.length && at < 0; i++) { at = low.indexOf(terms[i]); }
    if (at < 0) { return ""; }
    var start = Math.max(0, at - 60), piece = text.slice(start, at + 140);
    var re = new RegExp(terms.map(function (t) {
      return t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("|"), "gi");
    var html = "", last = 0, m;
    while ((m = re.exec(piece)) !== null) {
      html += escapeHtml(piece.slice(last, m.index)) + "<mark>" + escapeHtml(m[0]) + "</mark>";
      last = m.index + m[0].length;
    }
    html += escapeHtml(piece.slice(last));
    return (start > 0 ? "…" : "") + html + (at + 140 < text.length ? "…" : "");
  }
  function apply() {
    var terms = q.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    if (terms.length && lower === null) {
      lower = data.map(function (d) { return (d.title + " " + d.text).toLowerCase(); });
    }
    rows.forEach(function (row) {
      var i = +row.dataset.i, ok = true, s = row.querySelector(".snippet");
      if (org.value && row.dataset.org !== org.value) { ok = false; }
      if (project.value && row.dataset.project !== project.value) { ok = false; }
      if (!deleted.checked && row.classList.contains("deleted")) { ok = false; }
      if (ok && terms.length) {
        ok = terms.every(function (t) { return lower[i].indexOf(t) >= 0; });
      }
      s.innerHTML = ok && terms.length ? snippet(data[i].text, terms) : "";
      row.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown + " of " + rows.length + " chats";
  }
  function sortBy(th) {
    var key = th.dataset.sort, asc = th.getAttribute("aria-sort") !== "ascending";
    document.querySelectorAll("th[data-sort]").forEach(function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key];
      if (key === "messages") { x = +x; y = +y; }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });
  [q, org, project, deleted].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  var wanted = new URLSearchParams(location.search).get("q");
  if (wanted) { q.value = wanted; }
  apply();
})();
"""

CHAT_JS = r"""
(function () {
  "use strict";
  var tree = JSON.parse(document.getElementById("tree").textContent);
  var select = document.getElementById("branch");
  var articles = {};
  document.querySelectorAll("article.msg").forEach(function (a) { articles[a.dataset.id] = a; });

  function pathTo(leaf) {
    var path = {}, node = leaf;
    while (node && node !== "root") { path[node] = true; node = tree.parent[node]; }
    return path;
  }
  function leafUnder(node) {
    var current = tree.current, n = current;
    while (n && n !== "root") { if (n === node) { return current; } n = tree.parent[n]; }
    while ((tree.children[node] || []).length) {
      var kids = tree.children[node]; node = kids[kids.length - 1];
    }
    return node;
  }
  function show(leaf) {
    var path = pathTo(leaf);
    tree.current = leaf;
    Object.keys(articles).forEach(function (id) {
      var a = articles[id];
      a.hidden = !path[id];
      var sibs = tree.children[tree.parent[id]] || [], nav = a.querySelector(".sib");
      if (nav && sibs.length > 1) {
        nav.querySelector(".pos").textContent = (sibs.indexOf(id) + 1) + " / " + sibs.length;
      }
    });
    document.querySelectorAll(".fork").forEach(function (f) { f.hidden = true; });
    if (select) { select.value = leaf; }
  }
  document.querySelectorAll(".sib button").forEach(function (b) {
    b.addEventListener("click", function () {
      var id = b.closest("article").dataset.id, sibs = tree.children[tree.parent[id]];
      var next = sibs[(sibs.indexOf(id) + (b.dataset.step === "next" ? 1 : sibs.length - 1))
                      % sibs.length];
      show(leafUnder(next));
    });
  });
  if (select) { select.addEventListener("change", function () { show(select.value); }); }
  if (tree.current) { show(tree.current); }
})();
"""
