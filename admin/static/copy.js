// Copy buttons: the only script of the admin page. Without it the buttons
// stay hidden and the read-only fields can be selected and copied by hand.
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var input = document.getElementById(button.getAttribute('data-copy'));
  var status = document.getElementById(button.getAttribute('data-copy') + '-copied');
  if (!input) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    var say = function (ok) { if (status) status.textContent = ok ? 'Copied.' : 'Press Ctrl+C (⌘C) to copy.'; };
    var fallback = function () { input.select(); try { say(document.execCommand('copy')); } catch (e) { say(false); } };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { say(true); }, fallback);
    } else {
      fallback();
    }
  });
});
