// The reports sent from this device, kept in the browser so their status survives a reload.
import { fill, h } from '../shared/dom.js';
import { formatTime, t } from '../shared/i18n.js';
import { finestZones, levelRanks } from '../shared/notice.js';
import { lifeSafety, safetyNote } from './form.js';

const STORE = 'vedetta.reports';
const DEVICE = 'vedetta.device';
const CURSOR = 'vedetta.cursor';
/** Reports kept on the device; the oldest beyond this are forgotten. */
const KEEP = 50;

export class MyReports {
  /** `categories` and `settings` say which reports may concern lives, and whom to call. */
  constructor(categories, settings) {
    this.categories = categories;
    this.settings = settings;
    this.deviceId = localStorage.getItem(DEVICE) ?? newDeviceId();
    localStorage.setItem(DEVICE, this.deviceId);
    this.cursor = Number(localStorage.getItem(CURSOR) ?? 0);
    this.reports = JSON.parse(localStorage.getItem(STORE) ?? '[]');
    this.list = h('ol', { id: 'my-reports', class: 'cards' });
    this.element = h('section', { id: 'mine', 'aria-labelledby': 'mine-title' },
      h('h2', { id: 'mine-title' }), this.list);
    this.render();
  }

  /** A new report, kept as pending until the hub acknowledges it. */
  draft(fields) {
    const report = {
      client_ref: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      device_id: this.deviceId,
      ...fields,
    };
    this.reports.unshift({ report, status: 'sending', sent_at: new Date().toISOString(), updates: [] });
    try {
      this.save();
    } catch (err) {
      // Storage full: a report that cannot be kept for resending is not sent either.
      this.reports.shift();
      throw err;
    }
    return report;
  }

  /** Reports the hub has not acknowledged yet, to send again with the same client_ref. */
  pending() {
    return this.reports.filter((entry) => entry.status === 'sending').map((entry) => entry.report);
  }

  acknowledged(clientRef, receipt) {
    const entry = this.find(clientRef);
    if (!entry) return;
    entry.id = receipt.id;
    // The secret that lets this device, and only it, follow the report after a reload.
    entry.token = receipt.follow_token;
    entry.zone = finestZones(receipt.zones, levelRanks(this.settings))[0]?.name;
    if (entry.status === 'sending') entry.status = receipt.status;
    delete entry.report.photo;
    delete entry.report.contact;
    this.save();
  }

  /** The follow tokens of every acknowledged report kept here (at most KEEP). */
  tokens() {
    return this.reports.map((entry) => entry.token).filter(Boolean);
  }

  /** Drops the token the hub did not recognise (`tokens[3]`), so the others can be followed. */
  forgetToken(field) {
    const index = Number(/^tokens\[(\d+)\]$/.exec(field ?? '')?.[1]);
    const token = this.tokens()[index];
    if (token === undefined) return false;
    this.reports.filter((entry) => entry.token === token).forEach((entry) => delete entry.token);
    this.save();
    return true;
  }

  refused(clientRef) {
    this.reports = this.reports.filter((entry) => entry.report.client_ref !== clientRef);
    this.save();
  }

  updated(frame) {
    const entry = this.reports.find((e) => e.id === frame.report_id) ?? this.find(frame.client_ref);
    // A cursor names one update only within one database: after the office restores a backup,
    // the same number may come back with other news.
    const known = (update) => update.cursor === frame.cursor && update.at === frame.updated_at;
    if (entry && !entry.updates.some(known)) {
      entry.status = frame.status;
      entry.updates.push({ cursor: frame.cursor, status: frame.status, reason: frame.reason,
        note: frame.public_note, at: frame.updated_at, expected: frame.expected_at });
    }
    this.resumeFrom(frame.cursor);
  }

  resumeFrom(cursor) {
    this.keepCursor(Math.max(this.cursor, cursor));
  }

  /** The hub's `following` cursor, as given: lower than ours after it restored a backup. */
  followingFrom(cursor) {
    this.keepCursor(cursor);
  }

  keepCursor(cursor) {
    this.cursor = cursor;
    localStorage.setItem(CURSOR, String(this.cursor));
    this.save();
  }

  find(clientRef) {
    return this.reports.find((entry) => entry.report.client_ref === clientRef);
  }

  save() {
    this.reports = this.reports.slice(0, KEEP);
    localStorage.setItem(STORE, JSON.stringify(this.reports));
    this.render();
  }

  render() {
    this.element.querySelector('h2').textContent = t('citizen.mine_title');
    if (!this.reports.length) return fill(this.list, h('li', { class: 'empty' }, t('citizen.mine_empty')));
    fill(this.list, this.reports.map((entry) => this.card(entry)));
  }

  card(entry) {
    return card(entry, this.target(entry));
  }

  /** What the citizen may expect next. Where lives may be at stake, never a day-long answer
   * time: how soon the operations room takes the report in hand, and whom to call meanwhile. */
  target(entry) {
    const safety = lifeSafety(this.categories, entry.report.category);
    if (safety) {
      if (!['sending', 'received'].includes(entry.status)) return null;
      return safetyNote(safety, this.settings);
    }
    const expected = entry.updates.at(-1)?.expected;
    return expected ? t('citizen.expected', { at: formatTime(expected) }) : null;
  }
}

function card(entry, target) {
  return h('li', { class: 'card report-card', dataset: { clientRef: entry.report.client_ref, status: entry.status } },
    h('p', { class: 'card-head' },
      h('span', { class: `badge status-${entry.status}` }, t(`report.${entry.status}`)),
      ` ${formatTime(entry.sent_at)}${entry.zone ? ` · ${entry.zone}` : ''}`),
    h('p', { class: 'report-text' }, entry.report.text),
    target ? h('p', { class: 'hint target' }, target) : null,
    entry.updates.length
      ? h('ol', { class: 'updates' }, entry.updates.map((update) =>
        h('li', {},
          h('strong', {}, t(`report.${update.status}`)),
          update.reason ? ` (${t(`reason.${update.reason}`)})` : '',
          ` · ${formatTime(update.at)}`,
          update.note ? h('p', { class: 'note' }, update.note) : null)))
      : null);
}

function newDeviceId() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `web-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}
