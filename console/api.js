// sip2rtmp operator console: the daemon's API, with the operator's token.
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The token lives in this tab's sessionStorage (gone when the tab closes)
// and is only ever sent as an `Authorization: Bearer` header: never in a
// URL (which servers and proxies log), never in a cookie (which a browser
// would send with another site's forged request). The event stream is read
// with fetch() for the same reason: EventSource cannot set a header.

const TOKEN_KEY = 'sip2rtmp.token';

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : 'HTTP ' + status);
    this.status = status;
    this.field = body ? body.field : null;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function headers(extra = {}) {
  const h = { ...extra };
  const token = getToken();
  if (token) h.Authorization = 'Bearer ' + token;
  return h;
}

export async function request(method, path, body) {
  const init = { method, headers: headers(), cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let json = null;
  const text = await res.text();
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (res.status === 401) onUnauthorized();
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// GET without the token (the health endpoints): status and body, never throws
// for an HTTP status
export async function probe(path) {
  try {
    const res = await fetch(path, { cache: 'no-store' });
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      json = null;
    }
    return { status: res.status, json };
  } catch (e) {
    return { status: 0, json: null };
  }
}

// Follows GET /api/v1/events until `signal` aborts; calls onOpen once the
// daemon confirmed the subscription, onEvent(json) per event. Resolves when
// the stream ends, rejects on an HTTP error.
export async function followEvents({ signal, onOpen, onEvent }) {
  const res = await fetch('/api/v1/events', {
    headers: headers({ Accept: 'text/event-stream' }),
    cache: 'no-store',
    signal,
  });
  if (res.status === 401) onUnauthorized();
  if (!res.ok) throw new ApiError(res.status, null);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(': subscribed')) onOpen();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) {
        try {
          onEvent(JSON.parse(data.join('\n')));
        } catch (e) {
          console.warn('sip2rtmp: unreadable event', e);
        }
      }
    }
  }
}
