// The notices in force where the citizen is, live: updates replace, cancellations remove.
import { fill, h } from '../shared/dom.js';
import { formatTime, language, t } from '../shared/i18n.js';
import { noticeSummary, statusMark } from '../shared/map.js';

export class NoticeBoard {
  /** `drawAreas(notices)` shows the areas of the notices listed. */
  constructor(drawAreas) {
    this.drawAreas = drawAreas;
    this.byThread = new Map();
    this.located = false;
    this.list = h('ol', { id: 'notice-list', class: 'cards' });
    this.element = h('section', { id: 'notices', 'aria-labelledby': 'notices-title', 'aria-live': 'polite' },
      h('h2', { id: 'notices-title' }), this.list);
    this.render();
  }

  /** A new place: the hub sends what is in force there again. */
  moved() {
    this.located = true;
    this.byThread.clear();
    this.cursor = undefined;
  }

  ready(cursor) {
    this.cursor = cursor;
    this.render();
  }

  received(notice, cursor) {
    this.cursor = cursor;
    if (notice.msg_type === 'Cancel') this.byThread.delete(notice.thread_id);
    else this.byThread.set(notice.thread_id, notice);
    this.render();
  }

  expired(threadId, cursor) {
    this.cursor = cursor;
    this.byThread.delete(threadId);
    this.render();
  }

  render() {
    this.element.querySelector('h2').textContent = t('citizen.notices_title');
    this.drawAreas([...this.byThread.values()]);
    if (!this.located) return fill(this.list, h('li', { class: 'empty' }, t('citizen.notices_need_place')));
    if (!this.byThread.size) return fill(this.list, h('li', { class: 'empty' }, t('citizen.notices_none')));
    fill(this.list, [...this.byThread.values()].map((notice) => card(noticeSummary(notice, language()))));
  }
}

function card(notice) {
  const mark = statusMark(notice.status);
  return h('li', { class: `card notice-card sev-${notice.severity} ${mark ? 'not-real' : ''}` },
    mark ? h('p', { class: 'not-real-banner' }, t(`notice.not_real.${notice.status}`)) : null,
    h('p', { class: 'card-head' },
      h('span', { class: `badge sev-${notice.severity}` }, t(`severity.${notice.severity}`)),
      ` ${notice.event ?? ''}`),
    h('h3', {}, notice.headline ?? notice.event),
    notice.instruction ? h('p', { class: 'instruction' }, notice.instruction) : null,
    notice.description ? h('p', {}, notice.description) : null,
    h('p', { class: 'hint' },
      t('citizen.until', { at: formatTime(notice.expires) }),
      notice.zones.length ? ` · ${notice.zones.map((zone) => zone.name).join(', ')}` : ''),
    notice.web ? h('p', {}, h('a', { href: notice.web, rel: 'noopener' }, notice.web)) : null);
}
