/*
 * 唱响 — asks before a one-way action. A form with data-confirm="…" opens a dialog saying what the
 * action does; 确认 posts the form with _confirmed=1, 取消 (or Esc) closes it and nothing happens.
 * Without JavaScript the server shows a confirm page instead (src/web/confirm.ts).
 */
(function () {
  'use strict';
  var dialog, titleEl, messageEl, okButton, pending;

  function build() {
    dialog = document.createElement('dialog');
    dialog.className = 'confirm-dialog';
    dialog.setAttribute('aria-labelledby', 'confirm-dialog-title');
    dialog.setAttribute('aria-describedby', 'confirm-dialog-message');
    dialog.innerHTML =
      '<h2 id="confirm-dialog-title"></h2><p id="confirm-dialog-message"></p>' +
      '<div class="actions"><button type="button" class="button primary" data-ok></button>' +
      '<button type="button" class="button" data-cancel>取消</button></div>';
    document.body.appendChild(dialog);
    titleEl = dialog.querySelector('#confirm-dialog-title');
    messageEl = dialog.querySelector('#confirm-dialog-message');
    okButton = dialog.querySelector('[data-ok]');
    dialog.querySelector('[data-cancel]').addEventListener('click', function () {
      dialog.close();
    });
    dialog.addEventListener('close', function () {
      if (pending && pending.opener) pending.opener.focus();
      pending = null;
    });
    okButton.addEventListener('click', function () {
      if (!pending) return;
      var form = pending.form;
      var submitter = pending.opener;
      add(form, '_confirmed', '1');
      if (submitter && submitter.name) add(form, submitter.name, submitter.value);
      okButton.disabled = true;
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  function add(form, name, value) {
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-confirm')) return;
    if (typeof HTMLDialogElement !== 'function') return; // very old browser: the server's confirm page asks instead
    event.preventDefault();
    if (!dialog) build();
    var opener = event.submitter || form.querySelector('[type=submit]');
    pending = { form: form, opener: opener };
    titleEl.textContent = form.getAttribute('data-confirm-title') || '请确认';
    messageEl.textContent = form.getAttribute('data-confirm');
    okButton.textContent = form.getAttribute('data-confirm-button') || '确认';
    okButton.className = 'button ' + (form.hasAttribute('data-confirm-danger') ? 'danger' : 'primary');
    okButton.disabled = false;
    dialog.showModal();
    okButton.focus();
  });
})();
