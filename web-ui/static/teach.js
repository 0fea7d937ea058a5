/* Outpost teachers' pages, progressive enhancement only (every form works without it):
   resumable uploads with a progress bar per file. Loaded only on the pages of a session, so
   learners never download it. ES5 with no build step, like outpost.js. */
(function () {
  'use strict';
  var doc = document;

  function element(tag, className, text) {
    var el = doc.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  // Uploads: a small tus 1.0 client (docs/web-api.md, "Uploads"), one file after another. Each
  // file is made with a POST, then sent with PATCH in pieces (data-piece bytes, 4 MB unless the
  // form says) from its Upload-Offset; after a network error, or while the browser is offline,
  // it waits, asks HEAD where the server got to, and goes on from there. A refusal (a file too
  // large, a full disk) is shown with the server's reason. Without JavaScript the same form
  // posts the files whole to its action.
  function request(method, url, headers, body, onProgress, done) {
    var x = new XMLHttpRequest();
    x.open(method, url);
    for (var h in headers) {
      if (headers.hasOwnProperty(h)) x.setRequestHeader(h, headers[h]);
    }
    if (onProgress && x.upload) x.upload.onprogress = function (e) { onProgress(e.loaded); };
    x.onload = function () { done(null, x); };
    x.onerror = x.onabort = x.ontimeout = function () { done(new Error('network'), x); };
    x.send(body);
  }

  function base64(text) { return window.btoa(unescape(encodeURIComponent(text))); }

  function tusHeaders(csrf, extra) {
    var h = {'Tus-Resumable': '1.0.0', 'X-CSRF-Token': csrf};
    for (var k in extra) {
      if (extra.hasOwnProperty(k)) h[k] = extra[k];
    }
    return h;
  }

  // Sends `file`, showing its progress in `row` ({bar, note}); done(true) once the server has
  // every byte, done(false) if it refused the file.
  function sendFile(form, file, row, done) {
    var csrf = form.getAttribute('data-csrf') || '';
    var piece = parseInt(form.getAttribute('data-piece'), 10) || 4 * 1024 * 1024;
    var location = null, offset = 0, tries = 0;

    function refused(x) {
      var why = '';
      try { why = JSON.parse(x.responseText).error || ''; } catch (e) { /* not JSON */ }
      row.note.textContent = form.getAttribute('data-failed') + ' ' + (why || 'HTTP ' + x.status);
      done(false);
    }
    // The connection is gone: try again when it is back, or after a while.
    function later() {
      row.note.textContent = form.getAttribute('data-paused');
      var wait = Math.min(30000, 1000 * Math.pow(2, Math.min(tries++, 5)));
      var timer = null;
      var go = function () {
        window.removeEventListener('online', go);
        clearTimeout(timer);
        resume();
      };
      window.addEventListener('online', go);
      timer = setTimeout(go, navigator.onLine === false ? 600000 : wait);
    }
    function create() {
      var meta = 'filename ' + base64(file.name) + (file.type ? ',filetype ' + base64(file.type) : '');
      request('POST', form.getAttribute('data-tus'),
              tusHeaders(csrf, {'Upload-Length': String(file.size), 'Upload-Metadata': meta}),
              null, null, function (err, x) {
        if (err) return later();
        if (x.status !== 201) return refused(x);
        location = x.getResponseHeader('Location');
        send();
      });
    }
    function resume() {
      if (!location) return create();
      request('HEAD', location, tusHeaders(csrf, {}), null, null, function (err, x) {
        if (err) return later();
        if (x.status !== 200 && x.status !== 204) return refused(x);
        offset = parseInt(x.getResponseHeader('Upload-Offset'), 10) || 0;
        send();
      });
    }
    function send() {
      row.note.textContent = '';
      row.bar.value = offset;
      if (offset >= file.size) {
        row.note.textContent = form.getAttribute('data-sent');
        return done(true);
      }
      var end = Math.min(offset + piece, file.size);
      request('PATCH', location,
              tusHeaders(csrf, {'Content-Type': 'application/offset+octet-stream',
                                'Upload-Offset': String(offset)}),
              file.slice(offset, end), function (n) { row.bar.value = offset + n; },
              function (err, x) {
                if (err) return later();
                if (x.status === 409) return resume();  // not where we thought: ask
                if (x.status !== 204) return refused(x);
                tries = 0;
                offset = parseInt(x.getResponseHeader('Upload-Offset'), 10) || end;
                send();
              });
    }
    if (navigator.onLine === false) later(); else create();
  }

  function transferRow(list, file, n) {
    var li = element('li');
    var name = element('span', '', file.name);
    name.id = 'transfer-' + n;
    name.setAttribute('dir', 'auto');
    var bar = element('progress');
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute('aria-labelledby', name.id);
    var note = element('span', 'hint');
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(note);
    list.appendChild(li);
    return {bar: bar, note: note};
  }

  function setUpUploads(form) {
    var input = form.querySelector('input[type=file]');
    var list = form.querySelector('.transfers');
    var button = form.querySelector('button[type=submit]');
    if (!input || !list || !window.btoa || !window.Blob || !window.Blob.prototype.slice) return;
    form.addEventListener('submit', function (e) {
      var files = input.files;
      if (!files || !files.length) return;
      e.preventDefault();
      button.disabled = true;
      list.innerHTML = '';
      var rows = [], i, failed = 0, next = 0;
      for (i = 0; i < files.length; i++) rows.push(transferRow(list, files[i], i));
      (function one() {
        if (next >= files.length) {
          button.disabled = false;
          if (!failed) window.location.href = form.getAttribute('data-done');
          return;
        }
        var k = next++;
        sendFile(form, files[k], rows[k], function (ok) {
          if (!ok) failed++;
          one();
        });
      })();
    });
  }

  var upload = doc.querySelector && doc.querySelector('form[data-tus]');
  if (upload && window.XMLHttpRequest && window.addEventListener) setUpUploads(upload);

  // The console's running job (docs/console-actions.md): its figures are asked for once a
  // second from data-job-poll (/api/v1/admin/jobs, which words them in the page's language) and
  // written into the [data-job] elements the server rendered; when the job has ended, the page
  // is loaded again to show the result. Without JavaScript the page's Refresh link does it.
  function setUpJobPoll(box) {
    var url = box.getAttribute('data-job-poll');
    function put(name, text) {
      var el = box.querySelector('[data-job=' + name + ']');
      if (el) el.textContent = text || '';
    }
    function tick() {
      var x = new XMLHttpRequest();
      x.open('GET', url);
      x.onload = function () {
        var data = null;
        try { data = JSON.parse(x.responseText); } catch (e) { data = null; }
        if (x.status !== 200 || !data) return setTimeout(tick, 3000);
        var job = data.current;
        if (!job || !job.view || !job.view.progress) {
          window.location.href = window.location.pathname;  // the result, without ?done=
          return;
        }
        var p = job.view.progress;
        put('phase', p.phase);
        put('bytes', p.bytes);
        put('files', p.files);
        put('rate', p.rate);
        put('left', p.left);
        var bar = box.querySelector('[data-job=bar]');
        if (bar && p.max) { bar.max = p.max; bar.value = p.value; }
        setTimeout(tick, 1000);
      };
      x.onerror = function () { setTimeout(tick, 3000); };
      x.send();
    }
    setTimeout(tick, 1000);
  }

  var jobBox = doc.querySelector && doc.querySelector('[data-job-poll]');
  if (jobBox && window.XMLHttpRequest && window.JSON) setUpJobPoll(jobBox);
})();
