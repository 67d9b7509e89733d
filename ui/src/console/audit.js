// The audit log for admins, as a log a person reads: who did what to which notice, report or
// account, and when, in the reader's language, filtered by actor, action and period.
import { api } from '../shared/api.js';
import { fill, h, options } from '../shared/dom.js';
import { formatTime, t } from '../shared/i18n.js';

/** The actions the hub records, for the filter; others still show, by their code. */
const ACTIONS = ['login', 'login_failed', 'logout', 'user_create', 'user_update', 'draft', 'edit', 'approve', 'reject',
  'expire', 'import', 'report.status', 'report.note', 'report.publish', 'report.unpublish', 'report.escalate',
  'incident.merge', 'incident.split', 'incident.resolve', 'dispatch', 'task.answer', 'team.save', 'retention.purge'];
const PERIODS = { all: null, hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };

export function auditView() {
  const body = h('tbody', {});
  const more = h('button', { type: 'button', id: 'audit-more' }, t('audit.more'));
  const filters = { actor: '', action: '', period: 'all' };
  let cursor = null;
  const query = () => {
    const parts = ['limit=100'];
    if (filters.actor) parts.push(`actor=${encodeURIComponent(filters.actor)}`);
    if (filters.action) parts.push(`action=${encodeURIComponent(filters.action)}`);
    if (PERIODS[filters.period]) parts.push(`since=${new Date(Date.now() - PERIODS[filters.period]).toISOString()}`);
    if (cursor) parts.push(`cursor=${cursor}`);
    return parts.join('&');
  };
  const load = async () => {
    const page = await api(`/api/v1/audit?${query()}`);
    body.append(...page.entries.map(row));
    if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 5 }, t('audit.none'))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  const reload = (name, value) => {
    filters[name] = value;
    cursor = null;
    fill(body);
    load();
  };
  more.addEventListener('click', load);
  load();
  return h('section', { id: 'audit', class: 'audit' },
    h('h2', {}, t('audit.title')),
    filterForm(reload),
    h('table', {}, h('thead', {}, h('tr', {}, ['at', 'actor', 'action', 'subject', 'detail'].map((c) => h('th', { scope: 'col' }, t(`audit.${c}`))))), body),
    more);
}

function filterForm(reload) {
  const actor = h('input', { id: 'audit-actor', type: 'search', onchange: (e) => reload('actor', e.target.value.trim()) });
  const action = options(h('select', { id: 'audit-action', onchange: (e) => reload('action', e.target.value) }),
    ACTIONS.map((code) => [code, actionName(code)]), t('queue.any'));
  const period = options(h('select', { id: 'audit-period', onchange: (e) => reload('period', e.target.value) }),
    Object.keys(PERIODS).map((p) => [p, t(`queue.period_${p}`)]));
  const labelled = (control, key) => h('div', { class: 'field' }, h('label', { for: control.id }, t(key)), control);
  return h('form', { class: 'filters audit-filters', onsubmit: (e) => e.preventDefault() },
    labelled(actor, 'audit.actor'), labelled(action, 'audit.action'), labelled(period, 'queue.filter_period'));
}

function row(entry) {
  return h('tr', {},
    h('td', {}, formatTime(entry.at)),
    h('td', {}, entry.actor),
    h('td', {}, actionName(entry.action)),
    h('td', {}, subjectName(entry.subject)),
    h('td', { class: 'audit-detail' }, details(entry.detail)));
}

function actionName(code) {
  const key = `audit.action.${code}`;
  const name = t(key);
  return name === key ? code : name;
}

/** "Avviso 01a2b3c4", "Utente olga": what was acted on, in words. */
function subjectName(subject) {
  if (!subject) return '';
  const [kind, id] = subject.includes(':') ? subject.split(/:(.*)/s) : ['', subject];
  const name = kind ? t(`audit.subject.${kind}`) : '';
  return name && name !== `audit.subject.${kind}` ? `${name} ${id}` : subject;
}

/** The detail as "field: value" lines rather than JSON. */
function details(detail) {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object') return String(detail);
  return h('dl', { class: 'audit-facts' }, Object.entries(detail).flatMap(([key, value]) => [
    h('dt', {}, key),
    h('dd', {}, typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)),
  ]));
}
