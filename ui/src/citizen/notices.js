// The notices in force where the citizen is, live: an update replaces its notice, a cancellation
// shows as "Revocato" with its note until the cancelled notice would have expired.
import { fill, h } from '../shared/dom.js';
import { formatTime, language, t } from '../shared/i18n.js';
import { noticeSummary, noticeZoneNames, shortList, statusMark } from '../shared/notice.js';

/** The longest a timer may wait (about 24 days); later expiries are checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The notices last seen, for a page opened with no connection. */
const LAST_SEEN = 'vedetta.notices';

export class NoticeBoard {
  /** `drawAreas(summaries)` shows the areas of the notices in force (not the cancelled ones). */
  constructor(settings, ranks, drawAreas) {
    Object.assign(this, { settings, ranks, drawAreas });
    this.byThread = new Map();
    this.located = false;
    this.list = h('ol', { id: 'notice-list', class: 'cards' });
    this.element = h('section', { id: 'notices', 'aria-labelledby': 'notices-title', 'aria-live': 'polite' },
      h('h2', { id: 'notices-title' }), this.list);
    this.render();
  }

  /** A new place: the hub sends what is in force there again. Until it does, the notices last
   * seen at this very place stand in, marked with when they were seen: offline, that is all
   * there is, and it is better than nothing. */
  moved(point) {
    this.located = true;
    this.byThread.clear();
    this.cursor = undefined;
    this.point = point;
    this.fresh = new Set();
    const saved = lastSeen();
    const here = saved && saved.point?.lat === point.lat && saved.point?.lon === point.lon;
    this.seenAt = here ? saved.at : null;
    // "None here" may only be said once the hub has said so.
    this.answered = false;
    // What has ended since is left out: an expired alert shown as in force misleads.
    const now = Date.now();
    const stillHolds = (entry) => Date.parse(entry.cancelled ? entry.until : entry.notice.expires) > now;
    if (here) saved.entries.filter(([, entry]) => stillHolds(entry)).forEach(([thread, entry]) => this.byThread.set(thread, entry));
    this.render();
  }

  /** The hub has sent everything in force here: what it did not send no longer holds. */
  ready(cursor) {
    this.cursor = cursor;
    this.answered = true;
    if (this.seenAt) {
      [...this.byThread.keys()].filter((thread) => !this.fresh.has(thread)).forEach((thread) => this.byThread.delete(thread));
      this.seenAt = null;
    }
    this.render();
  }

  received(notice, cursor) {
    this.cursor = cursor;
    this.fresh?.add(notice.thread_id);
    if (notice.msg_type === 'Cancel') {
      // The citizen who saw the notice must see that it no longer holds, not have it vanish.
      const known = this.byThread.get(notice.thread_id);
      const original = known?.cancelled ? known.original : known?.notice;
      const until = original?.expires ?? notice.expires;
      this.byThread.set(notice.thread_id, { notice, original, cancelled: true, until });
      this.expireAt(notice.thread_id, until);
    } else {
      this.byThread.set(notice.thread_id, { notice, cancelled: false });
    }
    this.render();
  }

  expired(threadId, cursor) {
    this.cursor = cursor;
    this.byThread.delete(threadId);
    this.render();
  }

  /** Summaries of the notices in force, for the map. */
  inForce() {
    return [...this.byThread.values()].filter((entry) => !entry.cancelled)
      .map((entry) => noticeSummary(entry.notice, language()));
  }

  expireAt(threadId, until) {
    const wait = Date.parse(until) - Date.now();
    if (!(wait > 0)) return this.byThread.delete(threadId);
    setTimeout(() => {
      const entry = this.byThread.get(threadId);
      if (!entry?.cancelled || entry.until !== until) return;
      if (Date.parse(until) > Date.now()) return this.expireAt(threadId, until);
      this.byThread.delete(threadId);
      this.render();
    }, Math.min(wait, MAX_TIMER_MS));
  }

  render() {
    this.element.querySelector('h2').textContent = t('citizen.notices_title');
    this.drawAreas(this.inForce());
    if (!this.located) return fill(this.list, h('li', { class: 'empty' }, t('citizen.notices_need_place')));
    // Only the hub's complete answer is worth keeping for an offline visit.
    if (this.answered) this.remember();
    const offline = this.seenAt ? h('li', { class: 'offline-note' }, t('citizen.notices_offline', { at: formatTime(this.seenAt) })) : null;
    const pending = this.answered ? 'citizen.notices_none' : 'citizen.notices_asking';
    if (!this.byThread.size) return fill(this.list, offline ?? h('li', { class: 'empty' }, t(pending)));
    fill(this.list, offline, [...this.byThread.values()].map((entry) => {
      const summary = noticeSummary(entry.notice, language());
      return entry.cancelled ? this.cancelledCard(summary, entry.original && noticeSummary(entry.original, language())) : this.card(summary);
    }));
  }

  remember() {
    const snapshot = { point: this.point, at: new Date().toISOString(), entries: [...this.byThread] };
    try {
      localStorage.setItem(LAST_SEEN, JSON.stringify(snapshot));
    } catch {
      // A full storage keeps the previous snapshot; the page works the same online.
    }
  }

  card(notice) {
    const mark = statusMark(notice.status);
    const zones = noticeZoneNames(notice, this.ranks);
    return h('li', { class: `card notice-card sev-${notice.severity} ${mark ? 'not-real' : ''}`, dataset: { threadId: notice.thread_id } },
      mark ? h('p', { class: 'not-real-banner' }, t(`notice.not_real.${notice.status}`)) : null,
      h('p', { class: 'card-head' },
        h('span', { class: `badge sev-${notice.severity}` }, t(`severity.${notice.severity}`)),
        ` ${notice.event ?? ''}`),
      h('h3', {}, notice.headline ?? notice.event),
      notice.instruction ? h('p', { class: 'instruction' }, notice.instruction) : null,
      notice.description ? h('p', {}, notice.description) : null,
      zones.length ? h('p', { class: 'zones' }, t('citizen.notice_zones', { zones: shortList(zones) })) : null,
      notice.contact ? h('p', { class: 'contact' }, t('citizen.notice_contact', { contact: notice.contact })) : null,
      h('p', { class: 'hint' },
        t('citizen.issued', { at: formatTime(notice.sent), by: this.issuer(notice) }),
        ` · ${t('citizen.until', { at: formatTime(notice.expires) })}`),
      notice.web ? h('p', {}, h('a', { href: notice.web, rel: 'noopener' }, notice.web)) : null);
  }

  /** A cancellation's own text is its note: why the notice no longer holds. */
  cancelledCard(notice, original) {
    const mark = statusMark(notice.status);
    return h('li', { class: `card notice-card cancelled ${mark ? 'not-real' : ''}`, dataset: { threadId: notice.thread_id } },
      mark ? h('p', { class: 'not-real-banner' }, t(`notice.not_real.${notice.status}`)) : null,
      h('p', { class: 'card-head' }, h('span', { class: 'badge cancelled' }, t('citizen.cancelled')), ` ${notice.event ?? ''}`),
      h('h3', {}, notice.headline ?? notice.event),
      cancelNote(notice, original).map((line) => h('p', { class: 'note' }, line)),
      notice.contact ? h('p', { class: 'contact' }, t('citizen.notice_contact', { contact: notice.contact })) : null,
      h('p', { class: 'hint' }, t('citizen.cancelled_by', { at: formatTime(notice.sent), by: this.issuer(notice) })));
  }

  /** This office by its name; a notice relayed from another office by its CAP sender. */
  issuer(notice) {
    const ours = !notice.office || notice.office === this.settings.office;
    return (ours && this.settings.office_name) || notice.sender || notice.office || '';
  }
}

function lastSeen() {
  try {
    return JSON.parse(localStorage.getItem(LAST_SEEN) ?? 'null');
  } catch {
    return null;
  }
}

/** What a cancellation says of its own. Its draft starts as a copy of the notice: text left as
 * it was ("go upstairs") must not read as advice on a card saying the notice no longer holds. */
function cancelNote(cancel, original) {
  if (!original) return [cancel.description ?? cancel.instruction].filter(Boolean);
  return [cancel.description, cancel.instruction]
    .filter((text, i) => text && text !== [original.description, original.instruction][i]);
}
