/* 唱响 entry pages: upload progress, live processing status, custom-song toggle. Progressive
   enhancement only: every form also works without this script. */
(function () {
  'use strict';

  // Custom song title only when "自选歌曲" is chosen.
  var songSelect = document.querySelector('select[data-custom-toggle]');
  var custom = document.querySelector('.custom-song');
  if (songSelect && custom) {
    var toggle = function () {
      custom.hidden = songSelect.value !== 'custom';
    };
    songSelect.addEventListener('change', toggle);
    toggle();
  }

  function formatBytes(n) {
    if (n >= 1073741824) return (n / 1073741824).toFixed(2) + ' GB';
    if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MB';
    return Math.max(1, Math.round(n / 1024)) + ' KB';
  }

  function formatSeconds(left) {
    if (left >= 3600) return Math.floor(left / 3600) + ' 小时 ' + Math.ceil((left % 3600) / 60) + ' 分钟';
    return left >= 60 ? Math.ceil(left / 60) + ' 分钟' : left + ' 秒';
  }

  var form = document.getElementById('upload-form');
  var card = document.getElementById('video-card');

  // Resumable upload (tus 1.0, tus-js-client): chunks of data-chunk-bytes, retried after network
  // drops, pause/resume, and after a reload picking the same file continues from the server's
  // offset (the upload URL is kept in localStorage under a fingerprint of entry + file).
  var tus = window.tus;
  if (form && card && tus && tus.isSupported) {
    var entryId = card.dataset.entryId;
    var prefix = 'tus::cx-' + entryId + '-';
    var note = document.getElementById('upload-resume-note');
    var pauseButton = document.getElementById('upload-pause');
    var resumeButton = document.getElementById('upload-resume');
    var submitButton = form.querySelector('button[type=submit]');
    var bar = document.getElementById('upload-progress');
    var text = document.getElementById('upload-text');
    var current = null;
    var mark = null; // { at: ms, bytes: n } when (re)started, for speed and time left

    // An unfinished upload for this entry from an earlier visit: say so.
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf(prefix) === 0) {
          var saved = JSON.parse(window.localStorage.getItem(key) || '{}');
          var name = saved.metadata && saved.metadata.filename ? saved.metadata.filename : '视频';
          note.textContent = '上次的上传（' + name + '，' + formatBytes(saved.size || 0) + '）没有完成。请重新选择同一个文件并点“上传”，将从中断处继续。';
          note.hidden = false;
          break;
        }
      }
    } catch (e) {
      /* no localStorage: nothing to resume */
    }

    var showState = function (state) {
      pauseButton.hidden = state !== 'running';
      resumeButton.hidden = state !== 'paused';
      submitButton.disabled = state === 'running' || state === 'paused';
    };

    var start = function () {
      mark = null;
      showState('running');
      current.start();
    };

    pauseButton.addEventListener('click', function () {
      if (!current) return;
      current.abort();
      showState('paused');
      text.textContent = '已暂停（' + bar.value + '%）。点“继续”接着上传。';
    });
    resumeButton.addEventListener('click', function () {
      if (!current) return;
      text.textContent = '正在继续上传…';
      start();
    });

    form.addEventListener('submit', function (event) {
      var input = form.querySelector('input[type=file]');
      if (!input || !input.files || !input.files[0]) return;
      event.preventDefault();
      var file = input.files[0];
      current = new tus.Upload(file, {
        endpoint: '/api/v1/uploads',
        chunkSize: Number(form.dataset.chunkBytes) || 52428800,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
        headers: { 'X-CSRF-Token': form.dataset.csrf },
        metadata: { entryId: entryId, filename: file.name, filetype: file.type || 'application/octet-stream' },
        fingerprint: function (f) {
          return Promise.resolve(['cx', entryId, f.name, f.type, f.size, f.lastModified].join('-'));
        },
        removeFingerprintOnSuccess: true,
        onProgress: function (sent, total) {
          if (!mark) mark = { at: Date.now(), bytes: sent };
          var pct = total ? Math.floor((sent / total) * 100) : 0;
          bar.value = pct;
          var secs = (Date.now() - mark.at) / 1000;
          var speed = secs > 0.5 ? (sent - mark.bytes) / secs : 0;
          var left = speed > 0 ? Math.ceil((total - sent) / speed) : 0;
          text.textContent =
            '上传中 ' +
            pct +
            '%（' +
            formatBytes(sent) +
            ' / ' +
            formatBytes(total) +
            (speed ? '，' + formatBytes(speed) + '/秒，约剩 ' + formatSeconds(left) : '') +
            '）';
        },
        onSuccess: function () {
          text.textContent = '上传完成，正在处理…';
          window.location.href = '/entries/' + encodeURIComponent(entryId) + '?msg=video_uploaded';
        },
        onError: function (err) {
          var res = err && err.originalResponse;
          var status = res ? res.getStatus() : 0;
          if (status >= 400 && status < 500 && status !== 409 && status !== 423) {
            // Refused (not a video, too large, no longer editable…): the server's Chinese sentence.
            refused(text, (res.getBody() || '上传失败，请重试。').trim());
            bar.hidden = true;
            current = null;
            showState('idle');
            return;
          }
          text.textContent = '网络中断，上传已暂停（' + bar.value + '%）。网络恢复后点“继续”，或重新打开本页选择同一个文件继续。';
          showState('paused');
        },
      });
      bar.hidden = false;
      note.hidden = true;
      calm(text);
      text.textContent = '上传中 0%';
      current.findPreviousUploads().then(
        function (previous) {
          if (previous.length) {
            current.resumeFromPreviousUpload(previous[0]);
            text.textContent = '正在从上次中断处继续…';
          }
          start();
        },
        function () {
          start();
        },
      );
    });
  }

  // Upload with a progress bar (XHR reports upload progress; fetch does not).
  else if (form && card) {
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
        text.textContent =
          '上传中 ' +
          pct +
          '%（' +
          formatBytes(e.loaded) +
          ' / ' +
          formatBytes(e.total) +
          (speed ? '，' + formatBytes(speed) + '/秒，约剩 ' + (left >= 60 ? Math.ceil(left / 60) + ' 分钟' : left + ' 秒') : '') +
          '）';
      });
      xhr.addEventListener('load', function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          text.textContent = '上传完成，正在处理…';
          window.location.href = '/entries/' + encodeURIComponent(card.dataset.entryId) + '?msg=video_uploaded';
          return;
        }
        var message = '上传失败，请重试。';
        try {
          message = JSON.parse(xhr.responseText).detail || message;
        } catch (e) {
          /* keep default */
        }
        refused(text, message);
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
      calm(text);
      text.textContent = '上传中 0%';
      xhr.send(data);
    });
  }

  // While the video (or its replacement) is processing, poll its status and reload when it is done.
  if (card && card.dataset.processing === '1') {
    var poll = function () {
      fetch('/api/v1/entries/' + encodeURIComponent(card.dataset.entryId), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (entry) {
          // A replacement kept behind a ready video is what is processing, until it becomes the video.
          var v = entry && (entry.replacement || entry.video);
          if (!v) return setTimeout(poll, 5000);
          if (v.status === 'ready' || v.status === 'failed') {
            // Without ?msg=video_uploaded: its 「正在处理，请稍候」 no longer holds.
            window.location.replace(window.location.pathname);
            return;
          }
          var bar = document.getElementById('processing-bar');
          var text = document.getElementById('processing-text');
          if (bar) bar.value = v.progress;
          if (text) text.textContent = String(v.progress);
          setTimeout(poll, 2000);
        })
        .catch(function () {
          setTimeout(poll, 5000);
        });
    };
    setTimeout(poll, 1500);
  }
  /** A refused upload says why where it cannot be missed (an alert, read out by screen readers). */
  function refused(el, message) {
    el.className = 'alert alert-error alert-refused';
    el.setAttribute('role', 'alert');
    el.textContent = message;
  }
  function calm(el) {
    el.className = 'muted small';
    el.removeAttribute('role');
  }
})();
