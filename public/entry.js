/* 唱响 entry pages: upload progress, live processing status, custom-song toggle. Progressive
   enhancement only: every form also works without this script. */
(function () {
  'use strict';

  // Custom song title only when "自选歌曲" is chosen.
  var songSelect = document.querySelector('select[data-custom-toggle]');
  var custom = document.querySelector('.custom-song');
  if (songSelect && custom) {
    var toggle = function () { custom.hidden = songSelect.value !== 'custom'; };
    songSelect.addEventListener('change', toggle);
    toggle();
  }

  function formatBytes(n) {
    if (n >= 1073741824) return (n / 1073741824).toFixed(2) + ' GB';
    if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MB';
    return Math.max(1, Math.round(n / 1024)) + ' KB';
  }

  // Upload with a progress bar (XHR reports upload progress; fetch does not).
  var form = document.getElementById('upload-form');
  var card = document.getElementById('video-card');
  if (form && card) {
    form.addEventListener('submit', function (event) {
      var input = form.querySelector('input[type=file]');
      if (!input || !input.files || !input.files[0]) return;
      event.preventDefault();
      var file = input.files[0];
      var bar = document.getElementById('upload-progress');
      var text = document.getElementById('upload-text');
      var button = form.querySelector('button');
      var data = new FormData();
      data.append('video', file);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/entries/' + encodeURIComponent(card.dataset.entryId) + '/video');
      xhr.setRequestHeader('X-CSRF-Token', form.dataset.csrf);
      xhr.setRequestHeader('Accept', 'application/json');
      var started = Date.now();
      xhr.upload.addEventListener('progress', function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.floor((e.loaded / e.total) * 100);
        bar.value = pct;
        var secs = (Date.now() - started) / 1000;
        var speed = secs > 0 ? e.loaded / secs : 0;
        var left = speed > 0 ? Math.ceil((e.total - e.loaded) / speed) : 0;
        text.textContent = '上传中 ' + pct + '%（' + formatBytes(e.loaded) + ' / ' + formatBytes(e.total) +
          (speed ? '，' + formatBytes(speed) + '/秒，约剩 ' + (left >= 60 ? Math.ceil(left / 60) + ' 分钟' : left + ' 秒') : '') + '）';
      });
      xhr.addEventListener('load', function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          text.textContent = '上传完成，正在处理…';
          window.location.href = '/entries/' + encodeURIComponent(card.dataset.entryId) + '?msg=video_uploaded';
          return;
        }
        var message = '上传失败，请重试。';
        try { message = JSON.parse(xhr.responseText).detail || message; } catch (e) { /* keep default */ }
        text.textContent = message;
        bar.hidden = true;
        button.disabled = false;
      });
      xhr.addEventListener('error', function () {
        text.textContent = '网络中断，上传失败，请检查网络后重新上传。';
        bar.hidden = true;
        button.disabled = false;
      });
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      text.textContent = '上传中 0%';
      xhr.send(data);
    });
  }

  // While the video is processing, poll its status and reload when it is done.
  if (card && card.dataset.processing === '1') {
    var poll = function () {
      fetch('/api/v1/entries/' + encodeURIComponent(card.dataset.entryId), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (entry) {
          if (!entry || !entry.video) return setTimeout(poll, 5000);
          var v = entry.video;
          if (v.status === 'ready' || v.status === 'failed') { window.location.reload(); return; }
          var bar = document.getElementById('processing-bar');
          var text = document.getElementById('processing-text');
          if (bar) bar.value = v.progress;
          if (text) text.textContent = String(v.progress);
          setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 1500);
  }
})();
