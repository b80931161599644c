// The inbox's little JavaScript: SLA countdowns, the window warning of the
// reply's channel, and live refresh of the parts marked data-live when the
// server says something changed (SSE).
(function () {
  function fmt(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var two = function (n) { return (n < 10 ? '0' : '') + n; };
    return (h ? h + ':' + two(m) : m) + ':' + two(r);
  }
  function tick() {
    document.querySelectorAll('[data-due]').forEach(function (el) {
      if (el.hasAttribute('data-answered')) { el.textContent = 'respondido'; el.className = el.className.replace(/ ?late/, '') + ' answered'; return; }
      var left = new Date(el.getAttribute('data-due')).getTime() - Date.now();
      el.textContent = left >= 0 ? 'faltam ' + fmt(left) : 'atrasado há ' + fmt(left);
      el.classList.toggle('late', left < 0);
    });
  }
  function warn() {
    var sel = document.getElementById('reply-channel'), box = document.getElementById('window-warning');
    if (!sel || !box) return;
    var w = sel.options[sel.selectedIndex] ? sel.options[sel.selectedIndex].getAttribute('data-warning') : '';
    box.textContent = w || ''; box.hidden = !w;
  }
  function refresh() {
    fetch(location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      document.querySelectorAll('[data-live]').forEach(function (el) {
        var fresh = doc.getElementById(el.id);
        if (fresh) el.innerHTML = fresh.innerHTML;
      });
      tick();
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    tick(); setInterval(tick, 1000); warn();
    var sel = document.getElementById('reply-channel');
    if (sel) sel.addEventListener('change', warn);
    var url = document.body.getAttribute('data-live-url');
    if (url && window.EventSource) {
      var pending = null, es = new EventSource(url);
      es.addEventListener('change', function () { clearTimeout(pending); pending = setTimeout(refresh, 250); });
    }
  });
})();
