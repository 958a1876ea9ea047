// The cashier page's script (CONTRACT 10): follows the pay order live (server-sent events, polling
// as fallback), applies for the chosen channel once (buttons disabled while it is in flight),
// shows a QR code or goes to the provider in this same window, and once paid says so and returns
// to the shop. Plain browser JavaScript: no framework, nothing from another origin.
'use strict';
(function () {
  var root = document.getElementById('cashier');
  var path = root.getAttribute('data-path');
  var isReturn = root.getAttribute('data-return') === '1';
  var payOrderNo = root.getAttribute('data-order');
  // The return page a provider sends the shopper to names the order, not the token (it is stored
  // with the attempt); it shows the status only, and this tab's own cashier when it came from one.
  var tokenless = root.getAttribute('data-tokenless') === '1';
  function remembered(key) {
    try {
      return sessionStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }
  function remember(key, value) {
    try {
      sessionStorage.setItem(key, value);
    } catch (error) {
      // no storage: the return page then shows the status without the cashier
    }
  }
  var cashierPath = tokenless && remembered('cashier:' + payOrderNo);
  if (cashierPath) {
    location.replace(cashierPath + '/return');
    return;
  }
  // The page's language, as the gateway chose it: its texts come with the page (issue 31.3).
  var strings = JSON.parse(document.getElementById('cashier-strings').textContent);
  var statusText = strings.status;
  var state = null;
  var applying = false;
  // Seen unpaid by this page: a payment it then sees is one to take the shopper back from.
  var sawOpen = false;
  var leaving = false;
  var polling = null;

  function el(id) {
    return document.getElementById(id);
  }

  function render(next) {
    if (!next) return;
    state = next;
    var open = next.status === 'UNPAID' || next.status === 'PAYING';
    var status = el('status');
    status.setAttribute('data-status', next.status);
    status.textContent = applying
      ? strings.applying
      : statusText[tokenless && next.status === 'UNPAID' ? 'PAYING' : next.status];
    el('paid').hidden = next.status !== 'PAID';
    var timeLeft = el('time-left');
    if (timeLeft) timeLeft.hidden = !open;
    var buttons = document.querySelectorAll('button[data-channel]');
    for (var i = 0; i < buttons.length; i += 1) {
      var button = buttons[i];
      button.hidden = !open;
      button.disabled = !open || applying;
      button.setAttribute(
        'aria-pressed',
        String(Boolean(next.attempt && next.attempt.channel === button.getAttribute('data-channel'))),
      );
    }
    var qr = next.attempt && next.attempt.type === 'qr' && open ? next.attempt : null;
    el('qr').hidden = !qr;
    var image = el('qr-image');
    image.setAttribute('data-qr-content', qr ? qr.target : '');
    if (qr) image.src = qr.qrImage;
    else image.removeAttribute('src');
    el('back').hidden = !next.returnUrl;
    if (next.returnUrl) el('back-link').href = next.returnUrl;
    if (open) sawOpen = true;
    // The token-free return page goes back to the shop once; back from the shop, it stays.
    var wentBack = tokenless && remembered('returned:' + payOrderNo);
    if (next.status === 'PAID' && (sawOpen || isReturn) && !leaving && !wentBack) {
      leaving = true;
      if (tokenless) remember('returned:' + payOrderNo, '1');
      // Back from the shop lands on the plain cashier, which shows the paid prompt and stays.
      if (isReturn) history.replaceState(null, '', path);
      setTimeout(function () {
        location.assign(next.returnUrl);
      }, 1500);
    }
  }

  function showError(message) {
    var error = el('error');
    error.textContent = message || '';
    error.hidden = !message;
  }

  function refresh() {
    return fetch(path + '/state', { cache: 'no-store' })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(render, function () {});
  }

  function choose(channel) {
    if (applying || !state) return;
    applying = true;
    showError('');
    render(state);
    fetch(path + '/pay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: channel }),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(
        function (answer) {
          applying = false;
          var body = answer.body || {};
          if (!answer.ok)
            showError(
              body.error && body.error.code === 'ORDER_ALREADY_PAID' ? '' : body.error && body.error.message,
            );
          if (body.state) render(body.state);
          else refresh();
          if (answer.ok && body.payAction && body.payAction.type === 'redirect') {
            applying = true; // leaving for the provider's page: nothing more to press here
            render(state);
            // The provider sends the shopper back to the order's return page: from there, here.
            remember('cashier:' + payOrderNo, path);
            location.assign(body.payAction.url);
          }
        },
        function () {
          applying = false;
          showError(strings.startFailed);
          refresh();
        },
      );
  }

  root.addEventListener('click', function (event) {
    var target = event.target.closest ? event.target.closest('button[data-channel]') : null;
    if (target && !target.disabled) choose(target.getAttribute('data-channel'));
  });

  function poll(everyMs) {
    if (!polling) polling = setInterval(refresh, everyMs || 2000);
  }

  // The time left to pay, counted down each second in the page's language (hours only when there are any).
  function two(value) {
    return (value < 10 ? '0' : '') + value;
  }
  function showTimeLeft() {
    var timeLeft = el('time-left');
    if (!timeLeft || timeLeft.hidden) return;
    var seconds = Math.max(
      0,
      Math.floor((new Date(timeLeft.getAttribute('data-expires-at')).getTime() - Date.now()) / 1000),
    );
    var hours = Math.floor(seconds / 3600);
    var text =
      (hours > 0 ? hours + ':' + two(Math.floor(seconds / 60) % 60) : Math.floor(seconds / 60)) +
      ':' +
      two(seconds % 60);
    timeLeft.textContent = strings.timeLeft.replace('{time}', text);
    timeLeft.setAttribute('data-seconds-left', String(seconds));
  }
  if (el('time-left')) {
    showTimeLeft();
    setInterval(showTimeLeft, 1000);
  }

  // An order's expiry shows at once, however the page follows it.
  var expiry = null;
  function watchExpiry() {
    if (expiry || !state || !state.expiresAt) return;
    var left = new Date(state.expiresAt).getTime() - Date.now();
    if (left > 0 && left < 2147483647) expiry = setTimeout(refresh, left + 250);
  }

  function follow() {
    watchExpiry();
    if (!window.EventSource || tokenless) return poll();
    var source = new EventSource(path + '/events');
    source.onmessage = function (event) {
      render(JSON.parse(event.data));
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (429 TOO_MANY_STREAMS: too many streams on this gateway or for this page):
        // read the state at once (a refusal when asking again must not leave the page a poll
        // period staler), poll more slowly, and ask for a stream again later.
        refresh();
        poll(5000);
        setTimeout(function () {
          if (polling) {
            clearInterval(polling);
            polling = null;
          }
          follow();
        }, 30000);
        return;
      }
      // EventSource reconnects by itself; poll meanwhile so the page never goes stale.
      poll();
    };
    source.onopen = function () {
      if (polling) {
        clearInterval(polling);
        polling = null;
      }
    };
  }

  // Back to this page from the shop or the provider (the browser's back-forward cache): read it afresh.
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) {
      leaving = false;
      applying = false;
      refresh();
    }
  });

  refresh().then(follow);
})();
