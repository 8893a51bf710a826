// sip2rtmp operator console: the calls as the events tell them, and how
// one is drawn.
// SPDX-License-Identifier: LGPL-2.1-or-later

import { el, formatDuration, formatTime } from './dom.js';

const ENDED = new Set(['FINISH', 'FAILED', 'BUSY']);
const EVENT_ONLY = ['event', 'sequence', 'timestamp', 'digit', 'durationMs',
  'direction', 'method'];
const LOG_MAX = 200;

export function isActive(call) {
  return !ENDED.has(call.status);
}

// Calls by id, each with its event log and its last media statistics
export class CallStore {
  constructor() {
    this.calls = new Map();
    this.lastSequence = 0;
  }

  // the list from GET /api/v1/calls: what the events did not say yet
  load(list) {
    for (const call of list) {
      const known = this.calls.get(call.callId);
      if (known) Object.assign(known.call, call);
      else this.calls.set(call.callId, { call, log: [], stats: null });
    }
  }

  // an SSE event: its call's fields, plus the event's own
  apply(ev) {
    if (!ev || typeof ev.callId !== 'string') return null;
    if (typeof ev.sequence === 'number')
      this.lastSequence = Math.max(this.lastSequence, ev.sequence);
    let entry = this.calls.get(ev.callId);
    const fields = { ...ev };
    for (const k of EVENT_ONLY) delete fields[k];
    if (!entry) {
      entry = { call: fields, log: [], stats: null };
      this.calls.set(ev.callId, entry);
    } else {
      Object.assign(entry.call, fields);
    }
    entry.log.push(ev);
    if (entry.log.length > LOG_MAX) entry.log.shift();
    return entry;
  }

  setStats(id, withStats) {
    const entry = this.calls.get(id);
    if (!entry) return;
    entry.stats = { rtp: withStats.rtpStats, rtmp: withStats.rtmpStats };
    const fields = { ...withStats };
    delete fields.rtpStats;
    delete fields.rtmpStats;
    Object.assign(entry.call, fields);
  }

  // a call the daemon forgot (keep-finished passed)
  retain(ids) {
    for (const id of [...this.calls.keys()])
      if (!ids.has(id)) this.calls.delete(id);
  }

  sorted() {
    return [...this.calls.values()].sort((a, b) =>
      String(b.call.created || '').localeCompare(String(a.call.created || '')));
  }
}

export function callDuration(call, now) {
  if (!call.answered) return null;
  const from = Date.parse(call.answered);
  const to = call.ended ? Date.parse(call.ended) : now;
  return (to - from) / 1000;
}

function field(name, label, value) {
  return el('div', {},
    el('dt', {}, label),
    el('dd', { dataset: { field: name } }, value === null || value === undefined || value === '' ? '–' : value));
}

function lossText(stats) {
  if (!stats || !stats.rtp) return null;
  const { packetsLost: lost, packetsReceived: got } = stats.rtp;
  if (lost === null || got === null || lost === undefined) return null;
  const pct = got + lost > 0 ? (100 * lost / (got + lost)).toFixed(1) : '0.0';
  return `${lost} (${pct} %)`;
}

function jitterText(stats) {
  if (!stats || !stats.rtp || typeof stats.rtp.jitterMs !== 'number') return null;
  return stats.rtp.jitterMs.toFixed(1) + ' ms';
}

// One call as a list item; every value as text
export function renderCall(entry, now, selected) {
  const c = entry.call;
  const codec = [c.audioCodec, c.videoCodec].filter(Boolean).join(' + ');
  const title = el('h3', { class: 'call-title' },
    el('button', {
      type: 'button', class: 'link', 'aria-expanded': selected ? 'true' : 'false',
      'aria-controls': 'detail', dataset: { action: 'select', callId: c.callId },
    }, c.callee || c.callId));
  return el('li', {
    class: 'call', dataset: { callId: c.callId, status: c.status || '' },
    'aria-current': selected ? 'true' : false,
  },
  title,
  el('p', { class: 'muted call-id' }, c.callId),
  el('dl', { class: 'fields' },
    field('status', 'Status', c.status),
    field('sipStatus', 'SIP', c.sipStatus),
    field('codec', 'Codec', codec),
    field('duration', 'Duration', formatDuration(callDuration(c, now))),
    field('rtmpStreamStatus', 'Stream', c.rtmpStreamStatus),
    field('rtmpDroppedMs', 'Media lost', c.rtmpDroppedMs ? c.rtmpDroppedMs + ' ms' : '0 ms'),
    field('packetsLost', 'RTP loss', lossText(entry.stats)),
    field('jitter', 'Jitter', jitterText(entry.stats)),
    field('reason', 'Reason', c.reason),
    field('visibleName', 'From name', c.visibleName)),
  isActive(c) ? el('button', {
    type: 'button', class: 'danger', dataset: { action: 'hangup', callId: c.callId },
    'aria-label': 'Hang up ' + (c.callee || c.callId),
  }, 'Hang up') : null);
}

export function renderDestination(call, d) {
  const canRemove = isActive(call) && (call.destinations || []).length > 1;
  return el('li', { dataset: { destId: d.id, status: d.status || '' } },
    el('span', { class: 'dest-url' }, d.rtmpUrl || ''),
    ' ',
    el('span', { class: 'pill', dataset: { state: d.status || '' } }, d.status || ''),
    d.droppedMs ? el('span', { class: 'muted' }, ` lost ${d.droppedMs} ms`) : null,
    d.error ? el('span', { class: 'error' }, ' ' + d.error) : null,
    canRemove ? el('button', {
      type: 'button', dataset: { action: 'remove-dest', destId: d.id },
      'aria-label': 'Remove destination ' + d.id,
    }, 'Remove') : null);
}

export function renderLogEntry(ev) {
  let what;
  if (ev.event === 'DtmfEvent')
    what = `DTMF ${ev.direction || ''} ${ev.digit || ''}` + (ev.method ? ` (${ev.method})` : '');
  else
    what = [ev.status, ev.rtmpStreamStatus && 'stream ' + ev.rtmpStreamStatus,
      ev.sipStatus && 'SIP ' + ev.sipStatus, ev.reason].filter(Boolean).join(' · ');
  return el('li', {},
    el('time', { datetime: ev.timestamp || '' }, formatTime(ev.timestamp)), ' ',
    el('span', { class: 'muted' }, '#' + ev.sequence), ' ', what);
}
