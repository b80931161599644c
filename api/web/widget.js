// Atende webchat widget. Embed with one tag:
//   <script src="https://YOUR-ATENDE/chat/widget.js" data-channel="CHANNEL_ID" async></script>
// Optional: data-prechat="optional" | "required" | "none" (default optional), data-title.
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-channel]");
  if (!script) return;
  var channel = script.getAttribute("data-channel");
  var base = script.src.replace(/\/chat\/widget\.js.*$/, "");
  var prechat = script.getAttribute("data-prechat") || "optional";
  var title = script.getAttribute("data-title") || "Fale com a gente";
  var store = "atende:" + channel;
  var session = null;
  try { session = JSON.parse(localStorage.getItem(store) || "null"); } catch (e) { session = null; }
  var lastId = Number((session && session.last) || 0);

  var css = "#atende-chat [hidden]{display:none!important}" +
    "#atende-chat{position:fixed;right:20px;bottom:20px;display:flex;flex-direction:column;align-items:flex-end;gap:10px;font:15px/1.4 system-ui,sans-serif;z-index:2147483000}" +
    "#atende-chat button{cursor:pointer}" +
    "#atende-bubble{background:#0b6e4f;color:#fff;border:0;border-radius:24px;padding:12px 18px;box-shadow:0 4px 14px rgba(0,0,0,.2)}" +
    "#atende-panel{display:none;width:340px;height:480px;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);flex-direction:column;overflow:hidden}" +
    "#atende-panel.open{display:flex}" +
    "#atende-head{background:#0b6e4f;color:#fff;padding:12px 14px;display:flex;justify-content:space-between;align-items:center}" +
    "#atende-head button{background:none;border:0;color:#fff;font-size:18px}" +
    "#atende-log{flex:1;overflow-y:auto;padding:12px;background:#f5f7f6}" +
    ".atende-msg{max-width:80%;margin:6px 0;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    ".atende-me{margin-left:auto;background:#d8f3e6}.atende-them{background:#fff;border:1px solid #e1e5e3}" +
    "#atende-form{display:flex;border-top:1px solid #e1e5e3}#atende-form input{flex:1;border:0;padding:12px;font:inherit}" +
    "#atende-form button{border:0;background:#0b6e4f;color:#fff;padding:0 16px}" +
    "#atende-prechat{padding:14px;display:flex;flex-direction:column;gap:8px}#atende-prechat input{padding:9px;border:1px solid #cfd6d3;border-radius:6px;font:inherit}" +
    "#atende-prechat .row{display:flex;gap:8px}#atende-prechat button{flex:1;padding:9px;border-radius:6px;border:1px solid #0b6e4f;background:#0b6e4f;color:#fff}" +
    "#atende-prechat button.skip{background:#fff;color:#0b6e4f}.atende-err{color:#b00020;font-size:13px}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  var root = document.createElement("div");
  root.id = "atende-chat";
  root.innerHTML =
    '<div id="atende-panel" role="dialog" aria-label="Chat">' +
    '<div id="atende-head"><strong></strong><button type="button" aria-label="Fechar">×</button></div>' +
    '<div id="atende-prechat" hidden>' +
    '<p>Antes de começar, como podemos te chamar? (opcional)</p>' +
    '<input name="name" placeholder="Nome" autocomplete="name">' +
    '<input name="email" type="email" placeholder="E-mail" autocomplete="email">' +
    '<input name="phone" type="tel" placeholder="WhatsApp / telefone" autocomplete="tel">' +
    '<div class="atende-err" hidden></div>' +
    '<div class="row"><button type="button" class="start">Começar</button><button type="button" class="skip">Pular</button></div></div>' +
    '<div id="atende-log" aria-live="polite"></div>' +
    '<form id="atende-form"><input name="text" placeholder="Escreva sua mensagem…" autocomplete="off" aria-label="Mensagem"><button type="submit">Enviar</button></form>' +
    "</div>" +
    '<button id="atende-bubble" type="button">' + escapeHtml(title) + "</button>";
  document.body.appendChild(root);
  var panel = root.querySelector("#atende-panel");
  var log = root.querySelector("#atende-log");
  var form = root.querySelector("#atende-form");
  var pre = root.querySelector("#atende-prechat");
  root.querySelector("#atende-head strong").textContent = title;
  if (prechat === "required") pre.querySelector(".skip").hidden = true;

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  // The reply's Markdown subset, rendered after escaping.
  function render(text) {
    return escapeHtml(text)
      .replace(/\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>')
      .replace(/\*\*([^*\n]+)\*\*/g, "<b>$1</b>")
      .replace(/(^|[^\w*])[*_]([^*_\n]+)[*_](?=$|[^\w*])/g, "$1<i>$2</i>")
      .replace(/`([^`\n]+)`/g, "<code>$1</code>");
  }
  function add(text, mine, html) {
    var div = document.createElement("div");
    div.className = "atende-msg " + (mine ? "atende-me" : "atende-them");
    if (html) div.innerHTML = render(text); else div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }
  function save() { localStorage.setItem(store, JSON.stringify({ visitor_id: session.visitor_id, token: session.token, last: lastId })); }
  function post(path, body) {
    return fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Webchat-Token": session ? session.token : "" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error((j.error && j.error.message) || r.statusText); return j; });
    });
  }
  var source = null;
  function listen() {
    if (source) return;
    source = new EventSource(base + "/webchat/" + channel + "/stream?visitor_id=" + encodeURIComponent(session.visitor_id) +
      "&token=" + encodeURIComponent(session.token) + "&after=" + lastId);
    source.addEventListener("message", function (ev) {
      var m = JSON.parse(ev.data);
      if (m.id <= lastId) return;
      lastId = m.id;
      save();
      add(m.text, false, true);
    });
  }
  function start(fields) {
    var body = fields || {};
    if (session) body.visitor_id = session.visitor_id;
    return post("/webchat/" + channel + "/sessions", body).then(function (s) {
      session = { visitor_id: s.visitor_id, token: s.token };
      save();
      pre.hidden = true;
      log.hidden = false;
      form.hidden = false;
      listen();
    });
  }
  function open() {
    panel.classList.add("open");
    if (session) { listen(); return; }
    if (prechat === "none") { start({}); return; }
    pre.hidden = false;
    log.hidden = true;
    form.hidden = true;
  }
  root.querySelector("#atende-bubble").addEventListener("click", function () {
    if (panel.classList.contains("open")) panel.classList.remove("open"); else open();
  });
  root.querySelector("#atende-head button").addEventListener("click", function () { panel.classList.remove("open"); });
  pre.querySelector(".start").addEventListener("click", function () {
    var err = pre.querySelector(".atende-err");
    err.hidden = true;
    start({
      name: pre.querySelector("[name=name]").value,
      email: pre.querySelector("[name=email]").value,
      phone: pre.querySelector("[name=phone]").value
    }).catch(function (e) { err.textContent = e.message; err.hidden = false; });
  });
  pre.querySelector(".skip").addEventListener("click", function () { start({}); });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = form.querySelector("input");
    var text = input.value.trim();
    if (!text || !session) return;
    input.value = "";
    var bubble = add(text, true, false);
    var clientId = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    var attempt = function (n) {
      return post("/webchat/" + channel + "/messages", { visitor_id: session.visitor_id, client_id: clientId, text: text })
        .catch(function (e) { if (n < 3) return new Promise(function (r) { setTimeout(r, 1000 * (n + 1)); }).then(function () { return attempt(n + 1); }); throw e; });
    };
    attempt(0).catch(function () { bubble.style.opacity = "0.5"; bubble.title = "não enviada"; });
  });
  if (session && script.getAttribute("data-open") === "true") open();
  window.AtendeChat = { open: open };
})();
