/*
 * 唱响 — the top menu's groups are <details> (they open and close without JavaScript, and
 * name="nav-group" keeps one open at a time). This adds what a dropdown is expected to do:
 * Esc closes the open group and returns focus to its heading; a click elsewhere closes it.
 */
(function () {
  'use strict';
  function openGroups() {
    return document.querySelectorAll('.nav-group[open]');
  }

  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') return;
    openGroups().forEach(function (group) {
      var hadFocus = group.contains(document.activeElement);
      group.open = false;
      if (hadFocus) group.querySelector('summary').focus();
    });
  });

  document.addEventListener('click', function (event) {
    openGroups().forEach(function (group) {
      if (!group.contains(event.target)) group.open = false;
    });
  });
})();
