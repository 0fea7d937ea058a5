/* Outpost learner pages, progressive enhancement only (every page works without it):
   search suggestions as you type, and a PDF viewer (pdf.js, loaded only where a PDF is
   shown). ES5 with no build step, for the oldest WebViews and KaiOS. Text shown comes from
   data- attributes that the templates fill from the translation catalogs. */
(function () {
  'use strict';
  var doc = document;

  // GET JSON; done(error, value). fetch where there is one, else XMLHttpRequest.
  function getJson(url, done) {
    if (window.fetch) {
      window.fetch(url, {credentials: 'same-origin'}).then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      }).then(function (v) { done(null, v); }, function (e) { done(e); });
      return;
    }
    var x = new XMLHttpRequest();
    x.open('GET', url);
    x.onload = function () {
      var v;
      if (x.status !== 200) return done(new Error('HTTP ' + x.status));
      try { v = JSON.parse(x.responseText); } catch (e) { return done(e); }
      done(null, v);
    };
    x.onerror = function () { done(new Error('network')); };
    x.send();
  }

  function keyOf(e) {
    var k = e.key || '';
    if (k === 'Down' || e.keyCode === 40) return 'down';
    if (k === 'Up' || e.keyCode === 38) return 'up';
    if (k === 'Enter' || e.keyCode === 13) return 'enter';
    if (k === 'Escape' || k === 'Esc' || e.keyCode === 27) return 'escape';
    return k;
  }

  // Suggestions: the ARIA 1.2 combobox (input role=combobox, listbox, aria-activedescendant).
  // Enter on a highlighted suggestion opens it, else the form submits as without JavaScript.
  function setUpSuggestions(form) {
    var input = form.querySelector('input[name=q]');
    var endpoint = form.getAttribute('data-suggest');
    if (!input || !endpoint || !input.id) return;
    var list = doc.createElement('ul');
    var timer = null, seq = 0, items = [], active = -1;
    list.id = input.id + '-suggest';
    list.className = 'suggest';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', form.getAttribute('data-label') || '');
    list.hidden = true;
    form.appendChild(list);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');

    function highlight(i) {
      var nodes = list.childNodes;
      for (var n = 0; n < nodes.length; n++) {
        nodes[n].setAttribute('aria-selected', n === i ? 'true' : 'false');
      }
      active = i;
      if (i >= 0) input.setAttribute('aria-activedescendant', nodes[i].id);
      else input.removeAttribute('aria-activedescendant');
    }
    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      highlight(-1);
    }
    function go(i) {
      if (items[i]) window.location.href = items[i].url;
    }
    function render(suggestions) {
      while (list.firstChild) list.removeChild(list.firstChild);
      items = suggestions || [];
      for (var i = 0; i < items.length; i++) {
        var li = doc.createElement('li');
        li.id = list.id + '-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('dir', 'auto');
        li.textContent = items[i].title;
        li.onmousedown = preventDefault;  // keep the focus in the input
        li.onclick = (function (n) { return function () { go(n); }; })(i);
        list.appendChild(li);
      }
      active = -1;
      input.removeAttribute('aria-activedescendant');
      list.hidden = items.length === 0;
      input.setAttribute('aria-expanded', items.length ? 'true' : 'false');
    }
    function lookup() {
      var q = input.value.replace(/^\s+|\s+$/g, '');
      var mine = ++seq;
      if (q.length < 2) return render([]);
      getJson(endpoint + '?q=' + encodeURIComponent(q), function (err, v) {
        if (mine !== seq) return;  // a newer request is on its way
        render(err || !v ? [] : v.suggestions);
      });
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 200);
    });
    input.addEventListener('keydown', function (e) {
      var k = keyOf(e);
      if (list.hidden) return;
      if (k === 'down' || k === 'up') {
        e.preventDefault();
        var n = items.length;
        highlight(k === 'down' ? (active + 1) % n : (active - 1 + n) % n);
      } else if (k === 'enter' && active >= 0) {
        e.preventDefault();
        go(active);
      } else if (k === 'escape') {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener('blur', function () { setTimeout(close, 150); });
  }

  function preventDefault(e) { e.preventDefault(); }

  function element(tag, className, text) {
    var el = doc.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  // The PDF viewer on [data-pdf] (data-pdfjs, data-worker: pdf.js and its worker): one page
  // at a time in a canvas (memory is short on 2 GB phones), previous/next buttons. On any
  // failure the element keeps its plain link to the PDF and says so.
  function setUpPdfViewer(box) {
    var url = box.getAttribute('data-pdf');
    var lib = box.getAttribute('data-pdfjs');
    var worker = box.getAttribute('data-worker');
    var canvas = doc.createElement('canvas');
    if (!url || !lib || !worker || !window.Promise || !canvas.getContext) return;
    var status = element('p', 'pdfstatus', box.getAttribute('data-loading'));
    status.setAttribute('role', 'status');
    box.insertBefore(status, box.firstChild);
    var pdf = null, page = 1, rendering = false, wanted = 0;
    var bar, prev, next, label;

    function fail() {
      status.textContent = box.getAttribute('data-failed') || '';
      if (canvas.parentNode) box.removeChild(canvas);
      if (bar && bar.parentNode) box.removeChild(bar);
    }
    function pageLabel() {
      return (box.getAttribute('data-page') || '{page} / {pages}')
          .replace('{page}', page).replace('{pages}', pdf.numPages);
    }
    function show(n) {
      if (rendering) { wanted = n; return; }
      rendering = true;
      page = n;
      pdf.getPage(n).then(function (p) {
        var width = box.clientWidth || 300;
        var ratio = Math.min(window.devicePixelRatio || 1, 2);
        var base = p.getViewport({scale: 1});
        var scale = width / base.width;
        // At most about 4 million pixels: old phones run out of canvas memory beyond that.
        while (ratio > 1 && base.width * base.height * scale * scale * ratio * ratio > 4e6) {
          ratio -= 0.5;
        }
        var vp = p.getViewport({scale: scale * ratio});
        canvas.width = Math.floor(vp.width);
        canvas.height = Math.floor(vp.height);
        canvas.style.width = Math.floor(vp.width / ratio) + 'px';
        return p.render({canvasContext: canvas.getContext('2d'), viewport: vp}).promise;
      }).then(function () {
        rendering = false;
        label.textContent = pageLabel();
        canvas.setAttribute('aria-label', label.textContent);
        prev.disabled = page <= 1;
        next.disabled = page >= pdf.numPages;
        if (wanted) { var w = wanted; wanted = 0; show(w); }
      }, fail);
    }
    function start() {
      var pdfjs = window.pdfjsLib;
      if (!pdfjs || !pdfjs.getDocument) return fail();
      pdfjs.GlobalWorkerOptions.workerSrc = worker;
      // isEvalSupported: false closes CVE-2024-4367 (font code run through eval) in this
      // pdf.js; disableAutoFetch: only the byte ranges of the pages shown are downloaded.
      pdfjs.getDocument({url: url, isEvalSupported: false, disableAutoFetch: true})
          .promise.then(function (d) {
            pdf = d;
            status.textContent = '';
            canvas.setAttribute('role', 'img');
            bar = element('div', 'pdfbar');
            prev = element('button', '', box.getAttribute('data-prev'));
            next = element('button', '', box.getAttribute('data-next'));
            label = element('span', 'pdfpage');
            label.setAttribute('aria-live', 'polite');
            prev.type = next.type = 'button';
            prev.onclick = function () { if (page > 1) show(page - 1); };
            next.onclick = function () { if (page < pdf.numPages) show(page + 1); };
            bar.appendChild(label);
            if (pdf.numPages > 1) {
              bar.appendChild(prev);
              bar.appendChild(next);
            }
            box.insertBefore(canvas, status.nextSibling);
            box.insertBefore(bar, canvas.nextSibling);
            show(1);
          }, fail);
    }
    // pdf.js 2.16 refers to globalThis (Chrome 71+); older WebViews get it here.
    if (typeof window.globalThis === 'undefined') window.globalThis = window;
    var script = doc.createElement('script');
    script.src = lib;
    script.onload = start;
    script.onerror = fail;
    doc.getElementsByTagName('head')[0].appendChild(script);
  }

  function init() {
    if (!doc.querySelector || !window.addEventListener) return;
    var forms = doc.querySelectorAll('form[data-suggest]');
    for (var i = 0; i < forms.length; i++) setUpSuggestions(forms[i]);
    var box = doc.querySelector('[data-pdf]');
    if (box) setUpPdfViewer(box);
  }

  init();
})();
