// The inbox's little JavaScript: SLA countdowns, the window warning of the
// reply's channel, the canned responses' picker, and live refresh of the parts marked data-live when the
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
      var list = document.querySelector('#timeline .events');
      var atEnd = !list || list.scrollHeight - list.scrollTop - list.clientHeight < 40; // reading older messages: stay there
      document.querySelectorAll('[data-live]').forEach(function (el) {
        var fresh = doc.getElementById(el.id);
        if (fresh) el.innerHTML = fresh.innerHTML;
      });
      if (atEnd) latest();
      tick();
    });
  }
  // Canned responses: "/" at the start of the reply box opens a picker of
  // those offered on the reply's channel, filtered by what follows; arrows
  // and Enter choose, Esc closes it (until the "/" is gone). The one chosen
  // fills the box already filled for the contact; the note names the
  // variables still to fill.
  function canned() {
    var box = document.querySelector('textarea[data-canned-url]'), picker = document.getElementById('canned-picker'),
      note = document.getElementById('canned-note'), sel = document.getElementById('reply-channel');
    if (!box || !picker || !note) return;
    var lists = {}, shown = [], active = 0, chosen = null, pending = [], dismissed = false;
    function channel() { return sel && sel.value ? sel.value : (box.getAttribute('data-canned-channel') || ''); }
    function load() {
      var ch = channel();
      if (!lists[ch]) {
        lists[ch] = fetch(box.getAttribute('data-canned-url') + '?channel=' + encodeURIComponent(ch), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (d) { return d.responses || []; })
          .catch(function () { delete lists[ch]; return []; });
      }
      return lists[ch];
    }
    function typed() { var m = /^\/(\S*)$/.exec(box.value); return m ? m[1].toLowerCase() : null; }
    function close() { picker.hidden = true; picker.textContent = ''; shown = []; box.setAttribute('aria-expanded', 'false'); }
    function mark() {
      Array.prototype.forEach.call(picker.children, function (li, i) { li.classList.toggle('active', i === active); li.setAttribute('aria-selected', i === active ? 'true' : 'false'); });
      if (picker.children[active]) picker.children[active].scrollIntoView({ block: 'nearest' });
    }
    function show() {
      if (typed() === null) { dismissed = false; close(); return; }
      load().then(function (all) {
        var q = typed();
        if (q === null || dismissed) { close(); return; }
        var first = [], then = [];
        all.forEach(function (r) {
          var s = r.shortcut.toLowerCase();
          if (s.indexOf(q) === 0) first.push(r);
          else if (q && (s.indexOf(q) > 0 || r.title.toLowerCase().indexOf(q) >= 0)) then.push(r);
        });
        shown = first.concat(then); active = 0; picker.textContent = '';
        shown.forEach(function (r, i) {
          var li = document.createElement('li'), sc = document.createElement('span'), title = document.createElement('span');
          li.setAttribute('role', 'option'); li.setAttribute('data-shortcut', r.shortcut);
          sc.className = 'shortcut'; sc.textContent = '/' + r.shortcut;
          title.className = 'title'; title.textContent = r.title;
          li.appendChild(sc); li.appendChild(title);
          li.addEventListener('mousedown', function (e) { e.preventDefault(); choose(i); });
          picker.appendChild(li);
        });
        if (!shown.length) {
          var none = document.createElement('li'); none.className = 'none';
          none.textContent = all.length ? 'Nenhuma resposta pronta começa com /' + q : 'Nenhuma resposta pronta para este canal.';
          picker.appendChild(none);
        }
        picker.hidden = false; box.setAttribute('aria-expanded', 'true'); mark();
      });
    }
    function remind() {
      if (!chosen) { note.hidden = true; pending = []; return; }
      var text = box.value.toLowerCase().replace(/\{\{\s*/g, '{{').replace(/\s*\}\}/g, '}}'),
        still = function (v) { return text.indexOf('{{' + v + '}}') >= 0; },
        missing = chosen.missing.filter(still), unknown = chosen.unknown.filter(still);
      var parts = [];
      if (missing.length) parts.push('preencha: ' + missing.join(', '));
      if (unknown.length) parts.push('variável desconhecida: ' + unknown.map(function (v) { return '{{' + v + '}}'; }).join(', '));
      note.textContent = parts.length ? parts.join(' · ') : '';
      note.hidden = !parts.length;
      pending = missing;
      box.classList.toggle('canned-unfilled', !!missing.length);
    }
    function choose(i) {
      var r = shown[i];
      if (!r) return;
      chosen = r; box.value = r.text; close(); box.focus();
      var at = r.missing.length ? box.value.indexOf('{{' + r.missing[0] + '}}') : -1;
      if (at >= 0) box.setSelectionRange(at, at + r.missing[0].length + 4);
      else box.setSelectionRange(box.value.length, box.value.length);
      remind();
    }
    box.addEventListener('input', function () { show(); remind(); });
    box.addEventListener('keydown', function (e) {
      if (picker.hidden) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (shown.length) { active = (active + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length; mark(); }
      } else if (e.key === 'Enter' && !e.shiftKey && shown.length) {
        e.preventDefault(); choose(active);
      } else if (e.key === 'Escape') {
        e.preventDefault(); dismissed = true; close();
      }
    });
    box.addEventListener('blur', function () { setTimeout(close, 100); });
    if (sel) sel.addEventListener('change', close);
    // A placeholder left in the reply would reach the customer as "{{pedido}}".
    if (box.form) box.form.addEventListener('submit', function (e) {
      if (pending.length && !window.confirm('Falta preencher ' + pending.join(', ') + ' na resposta. Enviar assim mesmo?')) e.preventDefault();
    });
  }
  // The card's history opens at its latest message (a search result's
  // moment, named in the address, opens there instead).
  function latest() {
    var list = document.querySelector('#timeline .events');
    if (!list || /^#ev-/.test(location.hash)) return;
    list.scrollTop = list.scrollHeight;
  }
  document.addEventListener('DOMContentLoaded', function () {
    tick(); setInterval(tick, 1000); warn(); canned(); latest();
    var sel = document.getElementById('reply-channel');
    if (sel) sel.addEventListener('change', warn);
    var url = document.body.getAttribute('data-live-url');
    if (url && window.EventSource) {
      var pending = null, es = new EventSource(url);
      es.addEventListener('change', function () { clearTimeout(pending); pending = setTimeout(refresh, 250); });
    }
  });
})();
