// sip2rtmp operator console: the page's wiring.
// SPDX-License-Identifier: LGPL-2.1-or-later

import * as api from './api.js';
import { $, el, replaceChildren } from './dom.js';
import { CallStore, isActive, renderCall, renderDestination, renderLogEntry } from './calls.js';

const HEALTH_PERIOD_MS = 5000;
const STATS_PERIOD_MS = 2000;
const STATS_MAX_CALLS = 50;    // statistics are polled per call: bounded
const RECONNECT_MAX_MS = 8000;

const store = new CallStore();
let selectedId = null;
let streamAbort = null;
let timers = [];

function notice(text) {
  $('#notice').textContent = text || '';
}

// ---- signing in -------------------------------------------------------

function showLogin(message) {
  stop();
  $('#main').hidden = true;
  $('#login').hidden = false;
  $('#sign-out').hidden = true;
  $('#login-error').textContent = message || '';
  $('#token').focus();
}

async function start() {
  // a probe of the token (or of its absence) before anything else
  try {
    await api.request('GET', '/api/v1/status');
  } catch (e) {
    if (e.status === 401) {
      showLogin(api.getToken() ? 'The token was refused.' : '');
      return;
    }
    notice('The daemon does not answer: ' + e.message);
  }
  $('#login').hidden = true;
  $('#main').hidden = false;
  $('#sign-out').hidden = !api.getToken();
  follow();
  refreshHealth();
  timers.push(setInterval(refreshHealth, HEALTH_PERIOD_MS));
  timers.push(setInterval(refreshStats, STATS_PERIOD_MS));
  timers.push(setInterval(render, 1000)); // durations
}

function stop() {
  if (streamAbort) streamAbort.abort();
  streamAbort = null;
  timers.forEach(clearInterval);
  timers = [];
}

api.setUnauthorizedHandler(() => {
  if ($('#login').hidden) showLogin('The token was refused.');
});

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('#token');
  api.setToken(input.value.trim());
  input.value = '';
  start();
});

$('#sign-out').addEventListener('click', () => {
  api.setToken(null);
  showLogin('');
});

// ---- the event stream -------------------------------------------------

async function follow() {
  let delay = 500;
  const abort = new AbortController();
  streamAbort = abort;
  while (!abort.signal.aborted) {
    $('#stream-state').textContent = 'connecting';
    try {
      await api.followEvents({
        signal: abort.signal,
        // subscribed first, listed next: no event falls between the two
        onOpen: async () => {
          delay = 500;
          $('#stream-state').textContent = 'live';
          try {
            const list = await api.request('GET', '/api/v1/calls');
            store.retain(new Set(list.map((c) => c.callId)));
            store.load(list);
            render();
          } catch (e) {
            notice('Could not list the calls: ' + e.message);
          }
        },
        onEvent: (ev) => {
          store.apply(ev);
          render();
        },
      });
    } catch (e) {
      if (abort.signal.aborted || e.status === 401) return;
    }
    $('#stream-state').textContent = 'reconnecting';
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  }
}

// ---- health and capacity ----------------------------------------------

async function refreshHealth() {
  const ready = await api.probe('/readyz');
  const pill = $('#ready');
  if (ready.status === 200) {
    pill.dataset.state = 'ok';
    pill.textContent = 'Ready';
  } else if (ready.status === 503) {
    pill.dataset.state = 'bad';
    pill.textContent = 'Not ready' + (ready.json && ready.json.reason ? ': ' + ready.json.reason : '');
  } else if (ready.status === 0) {
    pill.dataset.state = 'bad';
    pill.textContent = 'Unreachable';
  }
  // 404: the health endpoints are on the monitoring address; /status says enough
  try {
    const s = await api.request('GET', '/api/v1/status');
    $('#capacity').textContent = `${s.activeCalls} / ${s.maxCalls}`;
    const a = s.admission || {};
    $('#cpu').textContent = typeof a.cpuBusyPercent === 'number' ? a.cpuBusyPercent.toFixed(0) + ' %' : '–';
    $('#media').textContent = typeof a.mediaBusyPercent === 'number'
      ? `${a.mediaBusyPercent.toFixed(0)} % busy, ${(a.mediaLateMs || 0).toFixed(1)} ms late` : '–';
    $('#refused').textContent = a.refused !== undefined ? String(a.refused) : '–';
    if (ready.status === 404) {
      pill.dataset.state = s.shuttingDown ? 'bad' : 'ok';
      pill.textContent = s.shuttingDown ? 'Shutting down' : 'Up';
    }
  } catch (e) {
    if (e.status !== 401) $('#capacity').textContent = '–';
  }
}

// ---- media statistics (per call, only on GET /api/v1/calls/{id}) -------

async function refreshStats() {
  const ids = store.sorted().filter((e) => e.call.status === 'ESTABLISHED')
    .slice(0, STATS_MAX_CALLS).map((e) => e.call.callId);
  await Promise.all(ids.map(async (id) => {
    try {
      store.setStats(id, await api.request('GET', '/api/v1/calls/' + encodeURIComponent(id)));
    } catch (e) {
      /* gone meanwhile */
    }
  }));
  if (ids.length) render();
}

// ---- drawing ----------------------------------------------------------

function render() {
  const now = Date.now();
  const showEnded = $('#show-ended').checked;
  const entries = store.sorted().filter((e) => showEnded || isActive(e.call));
  const list = $('#calls');
  // keep the focused control across a redraw (keyboard users)
  const focused = document.activeElement;
  const focusKey = focused && focused.dataset && focused.dataset.action
    ? `[data-action="${focused.dataset.action}"][data-call-id="${CSS.escape(focused.dataset.callId || '')}"]` : null;
  replaceChildren(list, entries.map((e) => renderCall(e, now, e.call.callId === selectedId)));
  if (focusKey && list.contains(focused) === false) {
    const again = list.querySelector(focusKey);
    if (again) again.focus();
  }
  $('#no-calls').hidden = entries.length > 0;
  renderDetail();
}

function renderDetail() {
  const panel = $('#detail');
  const entry = selectedId && store.calls.get(selectedId);
  if (!entry) {
    panel.hidden = true;
    return;
  }
  const c = entry.call;
  panel.hidden = false;
  $('#detail-title').textContent = `Call ${c.callee || ''} (${c.callId})`;
  panel.dataset.callId = c.callId;
  $('#hangup').disabled = !isActive(c);
  $('#dest-form').hidden = !isActive(c);
  $('#dtmf-form').hidden = c.status !== 'ESTABLISHED';
  replaceChildren($('#destinations'), (c.destinations || []).map((d) => renderDestination(c, d)));
  replaceChildren($('#event-log'), entry.log.map(renderLogEntry));
}

function select(id) {
  selectedId = id;
  $('#detail-error').textContent = '';
  render();
  $('#detail').focus();
}

$('#show-ended').addEventListener('change', render);
$('#close-detail').addEventListener('click', () => {
  const id = selectedId;
  selectedId = null;
  render();
  const back = document.querySelector(`[data-action="select"][data-call-id="${CSS.escape(id || '')}"]`);
  if (back) back.focus();
});

async function hangup(id, errorTarget) {
  try {
    await api.request('DELETE', '/api/v1/calls/' + encodeURIComponent(id));
    notice(`Hanging up ${id}.`);
  } catch (e) {
    errorTarget.textContent = e.message;
  }
}

$('#calls').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]');
  if (!button) return;
  const id = button.dataset.callId;
  if (button.dataset.action === 'select') select(id);
  else if (button.dataset.action === 'hangup') hangup(id, $('#notice'));
});

$('#hangup').addEventListener('click', () => hangup(selectedId, $('#detail-error')));

$('#destinations').addEventListener('click', async (e) => {
  const button = e.target.closest('button[data-action="remove-dest"]');
  if (!button) return;
  try {
    await api.request('DELETE', `/api/v1/calls/${encodeURIComponent(selectedId)}/destinations/${encodeURIComponent(button.dataset.destId)}`);
    $('#detail-error').textContent = '';
  } catch (err) {
    $('#detail-error').textContent = err.message;
  }
});

$('#dest-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('#d-url');
  try {
    await api.request('POST', `/api/v1/calls/${encodeURIComponent(selectedId)}/destinations`, { url: input.value.trim() });
    input.value = '';
    $('#detail-error').textContent = '';
  } catch (err) {
    $('#detail-error').textContent = err.message;
  }
});

$('#dtmf-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { digits: $('#d-digits').value.trim() };
  if ($('#d-method').value) body.method = $('#d-method').value;
  try {
    await api.request('POST', `/api/v1/calls/${encodeURIComponent(selectedId)}/dtmf`, body);
    $('#d-digits').value = '';
    $('#detail-error').textContent = '';
    notice(`DTMF ${body.digits} queued.`);
  } catch (err) {
    $('#detail-error').textContent = err.message;
  }
});

// ---- the call form: the API's fields, in the dialect chosen -----------

const SIP_FIELDS = ['sipLogin', 'sipPassword', 'sipAuthenticationName', 'sipDomain',
  'sipPort', 'sipOutboundProxy', 'sipTransport', 'visibleName'];
const TEXT_FIELDS = ['callId', 'callee', 'rtmpUrl', 'rtmpStream', 'record', 'dtmf',
  'appKey', 'callbackUrl', ...SIP_FIELDS];
const NUMBER_FIELDS = ['maxDuration', 'rtpTimeout', 'rtmpRetryBudget'];
const BOOL_FIELDS = ['hasAudio', 'hasVideo', 'generateVideo', 'sipRegisterRequired'];

function callBody(form, dialect) {
  const flat = {};
  for (const name of TEXT_FIELDS) {
    const v = form.elements[name].value.trim();
    if (v) flat[name] = v;
  }
  for (const name of NUMBER_FIELDS) {
    const v = form.elements[name].value.trim();
    if (v) flat[name] = /^\d+$/.test(v) ? Number(v) : v;  // the daemon names a bad one
  }
  for (const name of BOOL_FIELDS)
    flat[name] = dialect === 'native' ? form.elements[name].checked : String(form.elements[name].checked);
  if (dialect !== 'wcs4') return flat;
  // WCS 4 nests the SIP account (and appKey) in "connection"
  const connection = {};
  for (const name of [...SIP_FIELDS, 'sipRegisterRequired', 'appKey']) {
    if (name in flat) {
      connection[name] = name === 'sipPort' ? String(flat[name]) : flat[name];
      delete flat[name];
    }
  }
  flat.connection = connection;
  return flat;
}

const ROUTES = { native: '/api/v1/calls', wcs4: '/RESTCall/call', wcs5: '/rest-api/call/startup' };

$('#call-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const error = $('#form-error');
  error.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  const dialect = form.elements.dialect.value;
  const button = $('#start-call');
  button.disabled = true;
  try {
    const call = await api.request('POST', ROUTES[dialect], callBody(form, dialect));
    store.load([call]);
    notice(`Call ${call.callId} started.`);
    form.elements.callId.value = '';
    select(call.callId);
  } catch (err) {
    error.textContent = err.message;
    // the field the daemon named, e.g. "connection.sipPort" or "rtmpStream"
    const name = err.field ? err.field.split('.').pop().replace(/\[.*$/, '') : null;
    const input = name && form.elements[name];
    if (input && input.focus) {
      input.setAttribute('aria-invalid', 'true');
      const details = input.closest('details');
      if (details) details.open = true;
      input.focus();
    }
  } finally {
    button.disabled = false;
  }
});

start();
