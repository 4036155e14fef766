/*
 * 唱响 — the TV desk: a master in production shows its progress live (polled every 3 s) and the
 * page reloads when it is ready or failed, so the download button appears without a manual refresh.
 */
(function () {
  'use strict';
  var items = document.querySelectorAll('.master-progress[data-entry-id]');
  Array.prototype.forEach.call(items, function (el) {
    var id = el.getAttribute('data-entry-id');
    var bar = el.querySelector('progress');
    var percent = el.querySelector('.master-percent');
    var poll = function () {
      fetch('/api/v1/broadcast/entries/' + encodeURIComponent(id), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (item) {
          var m = item && item.master;
          if (!m) return setTimeout(poll, 6000);
          if (m.status === 'ready' || m.status === 'failed') {
            window.location.replace(window.location.pathname);
            return;
          }
          bar.value = m.progress;
          percent.textContent = String(m.progress);
          setTimeout(poll, 3000);
        })
        .catch(function () {
          setTimeout(poll, 6000);
        });
    };
    setTimeout(poll, 3000);
  });
})();
