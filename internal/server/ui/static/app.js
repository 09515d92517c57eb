// waorders dashboard: local times, confirmations, keyboard shortcuts and
// live updates. Every page works without it. Customer text is never put
// into the page as HTML: only textContent is set.
(function () {
  "use strict";

  // Times: the server writes UTC; show the viewer's zone, UTC on hover.
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.textContent = fmt.format(d); }
    });
  }
  localTimes(document);

  // Confirmations: a submit button or form with data-confirm asks first.
  document.addEventListener("submit", function (e) {
    var b = e.submitter, msg = (b && b.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });

  // Keyboard: / search, j/k rows, Enter opens, g+key goes, ? help.
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll("tr[data-href]")); };
  var sel = -1, g = false;
  var go = { o: "/ui/orders", c: "/ui/campaigns", m: "/ui/messages", q: "/ui/quarantine", w: "/ui/webhooks", h: "/ui/" };
  function select(i) {
    var rs = rows();
    if (!rs.length) { return; }
    sel = Math.max(0, Math.min(rs.length - 1, i));
    rs.forEach(function (r, j) { r.classList.toggle("sel", j === sel); });
    var a = rs[sel].querySelector("a");
    if (a) { a.focus(); }
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName) || t.isContentEditable) { return; }
    if (g) {
      g = false;
      if (go[e.key]) { e.preventDefault(); location.href = go[e.key]; }
      return;
    }
    switch (e.key) {
      case "/": var q = document.getElementById("q"); if (q) { e.preventDefault(); q.focus(); } break;
      case "j": select(sel + 1); break;
      case "k": select(sel - 1); break;
      case "g": g = true; break;
      case "?": var s = document.getElementById("shortcuts"); if (s) { s.hidden = !s.hidden; } break;
      case "Enter": if (sel >= 0 && rows()[sel] && t.tagName !== "A") { location.href = rows()[sel].getAttribute("data-href"); } break;
    }
  });

  // Live: new orders and status changes arrive by Server-Sent Events.
  // A banner counts new orders (rows never move under the reader); a
  // changed status updates its badge, and an order page changed by
  // someone else says so. The stream closes while the tab is hidden and
  // resumes from the last event after, as after a lost connection.
  var url = document.body.getAttribute("data-live");
  var status = document.getElementById("live-status");
  if (!url || !window.EventSource) { return; }
  var banner = document.getElementById("new-orders");
  var changed = document.getElementById("order-changed");
  var ids = new Set(), last = "", es = null, retry = null;
  function say(s) { if (status) { status.textContent = s; } }
  function data(ev) {
    if (ev.lastEventId) { last = ev.lastEventId; }
    try { return JSON.parse(ev.data); } catch (err) { return null; }
  }
  function row(id) { return document.querySelector('tr[data-id="' + CSS.escape(id) + '"]'); }
  function open() {
    retry = null;
    var u = url;
    if (last) { u = url.replace(/after=[^&]*/, "after=" + encodeURIComponent(last)); }
    es = new EventSource(u);
    say("Connecting…");
    es.onopen = function () { say("Live"); };
    es.onerror = function () {
      say("Reconnecting…");
      // The browser retries by itself unless the answer was not a
      // stream (a restart in progress, a login that ended): then we do.
      if (es.readyState === EventSource.CLOSED && !retry) { es = null; retry = setTimeout(open, 3000); }
    };
    es.addEventListener("order", function (ev) {
      var d = data(ev);
      if (!d || ids.has(d.id) || row(d.id)) { return; }
      ids.add(d.id);
      if (banner) {
        var a = banner.querySelector("a");
        a.textContent = ids.size + (ids.size === 1 ? " new order" : " new orders") + " — show";
        banner.hidden = false;
      }
    });
    es.addEventListener("status", function (ev) {
      var d = data(ev);
      if (!d) { return; }
      var st = String(d.status).replace(/_/g, " "), tr = row(d.id);
      if (tr && d.version > Number(tr.getAttribute("data-version"))) {
        tr.setAttribute("data-version", d.version);
        var b = tr.querySelector(".badge");
        if (b) { b.textContent = st; b.className = "badge st-" + d.status; }
      }
      if (changed && changed.getAttribute("data-id") === d.id && d.version > Number(changed.getAttribute("data-version"))) {
        changed.querySelector("a").textContent = "Changed to “" + st + "” since you opened it — reload";
        changed.hidden = false;
      }
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (es) { es.close(); es = null; say("Paused"); }
    } else if (!es && !retry) { open(); }
  });
  open();
})();
