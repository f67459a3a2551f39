/* The survey form (民调问卷), at the desk and on the web link.
 *
 * Skip rules: a question with data-show-if='{"question": code, "in": [...]}' is shown only
 * while that earlier question (itself shown) has one of the answers; a hidden question's
 * inputs are disabled, so they are not sent. The server applies the same rules anyway.
 *
 * Keys (only inside [data-desk-keys], the interviewer's page): first the call's disposition,
 * its key on each button; 1 (接通) opens the questionnaire. Then the number key shown beside an
 * option chooses it in the current question (a single choice moves on to the next question),
 * Enter moves on and saves after the last question, Ctrl+Enter saves at once, Esc goes back.
 */
(function () {
  "use strict";

  function questions(form) {
    return Array.prototype.slice.call(form.querySelectorAll("[data-question]"));
  }

  function valueOf(q) {
    var checked = q.querySelectorAll("input:checked");
    if (checked.length) {
      return Array.prototype.map.call(checked, function (i) { return i.value; });
    }
    var other = q.querySelector("select, input[type=number], input[type=text], textarea");
    return other && other.value !== "" ? [other.value] : [];
  }

  function shown(q) { return q.style.display !== "none"; }

  function applyRules(form) {
    var seen = {};
    questions(form).forEach(function (q) {
      var rule = q.getAttribute("data-show-if");
      var visible = true;
      if (rule) {
        var r = JSON.parse(rule);
        var ref = seen[r.question];
        visible = !!ref && ref.visible && ref.values.some(function (v) {
          return (r["in"] || []).map(String).indexOf(String(v)) >= 0;
        });
      }
      q.style.display = visible ? "" : "none";
      Array.prototype.forEach.call(q.querySelectorAll("input, select, textarea"), function (el) {
        el.disabled = !visible;
      });
      seen[q.getAttribute("data-question")] = {visible: visible, values: valueOf(q)};
    });
  }

  function firstInput(q) {
    return q.querySelector("input:checked") ||
      q.querySelector("input:not([type=hidden]), select, textarea");
  }

  function visibleQuestions(form) { return questions(form).filter(shown); }

  function focusQuestion(q) {
    var el = firstInput(q);
    if (el) { el.focus(); }
    q.scrollIntoView({block: "nearest"});
  }

  function currentQuestion(form) {
    var active = document.activeElement;
    var q = active && active.closest ? active.closest("[data-question]") : null;
    if (q && form.contains(q) && shown(q)) { return q; }
    var open = visibleQuestions(form).filter(function (x) { return !valueOf(x).length; });
    return open[0] || visibleQuestions(form)[0] || null;
  }

  function next(form, q) {
    var list = visibleQuestions(form);
    var i = list.indexOf(q);
    return i >= 0 && i + 1 < list.length ? list[i + 1] : null;
  }

  function setupKeys(root, form) {
    var section = root.querySelector("[data-answer-section]");
    var start = root.querySelector("[data-open-answers]");
    var appointment = root.querySelector("[data-appointment-form]");
    var appointmentButton = root.querySelector("[data-open-appointment]");
    var phase = section && section.classList.contains("is-open") ? "answer" : "dispose";
    var sent = false;
    root.classList.add("js");

    function open() {
      section.classList.add("is-open");
      phase = "answer";
      var q = currentQuestion(form);
      if (q) { focusQuestion(q); }
    }
    function submit() { if (!sent) { sent = true; form.requestSubmit(); } }

    if (start) { start.addEventListener("click", open); }
    if (appointmentButton && appointment) {
      appointmentButton.addEventListener("click", function () {
        appointment.classList.remove("js-hidden");
        appointment.querySelector("input[name=retry_at]").focus();
      });
    }
    form.addEventListener("submit", function () { sent = true; });

    document.addEventListener("keydown", function (e) {
      if (e.altKey || e.metaKey) { return; }
      var el = e.target, tag = el.tagName;
      if (phase === "answer" && e.ctrlKey && e.key === "Enter") {
        e.preventDefault(); submit(); return;
      }
      if (e.ctrlKey) { return; }
      var typing = tag === "TEXTAREA" || tag === "SELECT" ||
        (tag === "INPUT" && !/^(radio|checkbox|submit|button|hidden)$/.test(el.type));
      if (phase === "dispose") {
        if (typing) { return; }
        var b = root.querySelector('[data-dispose-key="' + e.key.toLowerCase() + '"]');
        if (b && !b.disabled) { e.preventDefault(); b.click(); }
        return;
      }
      var q = currentQuestion(form);
      if (e.key === "Escape") {
        if (typing) { el.blur(); return; }
        section.classList.remove("is-open"); phase = "dispose"; return;
      }
      if (e.key === "Enter" && !(tag === "TEXTAREA" && e.shiftKey) && tag !== "BUTTON") {
        e.preventDefault();
        var after = q ? next(form, q) : null;
        if (after) { focusQuestion(after); } else { submit(); }
        return;
      }
      if (typing || !q) { return; }
      var option = q.querySelector('[data-key="' + e.key.toLowerCase() + '"]');
      if (!option || option.disabled) { return; }
      e.preventDefault();
      if (option.type === "radio") {
        option.checked = true;
      } else {
        option.checked = !option.checked;
      }
      option.dispatchEvent(new Event("change", {bubbles: true}));
      if (option.type === "radio") {
        var following = next(form, q);
        if (following) { focusQuestion(following); } else { option.focus(); }
      } else {
        option.focus();
      }
    });
  }

  // The desk's home page: N takes the next number of the first wave.
  function setupNextKey(button) {
    var key = button.getAttribute("data-next-key");
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) { return; }
      var t = e.target.tagName;
      if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT") { return; }
      if (e.key.toLowerCase() === key && !button.disabled) { e.preventDefault(); button.click(); }
    });
  }

  function init() {
    var nextButton = document.querySelector("[data-next-key]");
    if (nextButton) { setupNextKey(nextButton); }
    Array.prototype.forEach.call(document.querySelectorAll("form[data-survey-form]"),
      function (form) {
        applyRules(form);
        form.addEventListener("change", function () { applyRules(form); });
        form.addEventListener("input", function () { applyRules(form); });
        var root = form.closest("[data-desk-keys]");
        if (root) { setupKeys(root, form); }
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
