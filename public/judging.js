/* 唱响 judging pages: the live total of a score form and the sum of a new round's rubric.
   Progressive enhancement only: the server checks every value again. */
(function () {
  'use strict';

  function sum(inputs) {
    var total = 0;
    var complete = true;
    inputs.forEach(function (input) {
      var v = input.value.trim();
      if (v === '') {
        complete = false;
        return;
      }
      var n = Number(v);
      if (!isFinite(n)) {
        complete = false;
        return;
      }
      total += n;
    });
    return { total: Math.round(total * 10) / 10, complete: complete };
  }

  // Score form: live total; each box flagged when out of its range.
  var scoreInputs = Array.prototype.slice.call(document.querySelectorAll('input.score-input'));
  var totalOut = document.getElementById('score-total');
  if (scoreInputs.length && totalOut) {
    var update = function () {
      scoreInputs.forEach(function (input) {
        var max = Number(input.dataset.max);
        var v = input.value.trim();
        var n = Number(v);
        var bad = v !== '' && (!isFinite(n) || n < 0 || n > max);
        input.setCustomValidity(bad ? '分数必须在 0 到 ' + max + ' 之间' : '');
        input.classList.toggle('invalid', bad);
      });
      var s = sum(scoreInputs);
      totalOut.textContent = s.complete ? String(s.total) : s.total > 0 ? s.total + '（未填完）' : '—';
    };
    scoreInputs.forEach(function (input) {
      input.addEventListener('input', update);
    });
    update();
  }

  // New round: the rubric's running sum (must be 100).
  var maxInputs = Array.prototype.slice.call(document.querySelectorAll('input[name=rubricMax]'));
  var sumOut = document.getElementById('rubric-sum');
  if (maxInputs.length && sumOut) {
    var updateSum = function () {
      var total = 0;
      maxInputs.forEach(function (input) {
        var n = Number(input.value);
        if (input.value !== '' && isFinite(n)) total += n;
      });
      sumOut.textContent = String(total);
      sumOut.classList.toggle('bad', total !== 100);
    };
    maxInputs.forEach(function (input) {
      input.addEventListener('input', updateSum);
    });
    updateSum();
  }
})();
