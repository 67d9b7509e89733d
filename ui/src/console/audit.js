// The audit log for admins: who did what and when, newest first, page by page.
import { api } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { formatTime, t } from '../shared/i18n.js';

export function auditView() {
  const body = h('tbody', {});
  const more = h('button', { type: 'button', id: 'audit-more' }, t('audit.more'));
  let cursor = null;
  const load = async () => {
    const page = await api(`/api/v1/audit?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    body.append(...page.entries.map((entry) => h('tr', {},
      h('td', {}, formatTime(entry.at)), h('td', {}, entry.actor), h('td', {}, entry.action),
      h('td', {}, entry.subject ?? ''), h('td', { class: 'audit-detail' }, entry.detail ? JSON.stringify(entry.detail) : ''))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', load);
  load();
  return h('section', { id: 'audit', class: 'audit' },
    h('h2', {}, t('audit.title')),
    h('table', {}, h('thead', {}, h('tr', {}, ['at', 'actor', 'action', 'subject', 'detail'].map((c) => h('th', { scope: 'col' }, t(`audit.${c}`))))), body),
    more);
}
