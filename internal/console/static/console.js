// The console's only script: it polls an export's status and moves the
// progress bar until the file is there. The page works without it (reload
// shows the same facts); no key or token is stored anywhere by it.
"use strict";
(function () {
  var el = document.getElementById("export");
  if (!el) return;
  var bar = document.getElementById("progress");
  var rows = document.getElementById("rows");
  var status = document.getElementById("status");
  var links = document.getElementById("links");
  var failure = document.getElementById("export-error");
  var nf = new Intl.NumberFormat(document.documentElement.lang || "en");
  function fill(tpl, w, t, approx) { return tpl.replace("{w}", nf.format(w)).replace("{t}", t === "" ? "" : (approx ? "~" : "") + nf.format(t)); }
  function show(st) {
    var total = st.rows_total;
    // Without a count, the database's estimate (PostgreSQL), marked "~".
    var approx = (total === null || total === undefined) && typeof st.rows_estimate === "number";
    if (approx) total = st.rows_estimate;
    var done = st.status === "completed";
    status.textContent = el.getAttribute("data-l-status-" + st.status) || st.status;
    if (total !== null && total !== undefined && total >= 0) {
      bar.max = Math.max(total, 1);
      bar.value = done ? Math.max(total, 1) : Math.min(st.rows_written, total);
      rows.textContent = fill(el.getAttribute("data-l-rows"), st.rows_written, total, approx);
    } else {
      rows.textContent = fill(el.getAttribute("data-l-rows-unknown"), st.rows_written, "");
    }
    bar.textContent = String(st.rows_written);
    if (done) links.hidden = false;
    if (st.status === "failed" && st.error) {
      failure.textContent = st.error.message;
      failure.hidden = false;
    }
    return st.status === "queued" || st.status === "running";
  }
  function poll() {
    fetch(el.getAttribute("data-status-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error((body.error && body.error.message) || r.statusText);
          return body;
        });
      })
      .then(function (st) { if (show(st)) setTimeout(poll, 500); })
      .catch(function (err) { failure.textContent = err.message; failure.hidden = false; });
  }
  poll();
})();
