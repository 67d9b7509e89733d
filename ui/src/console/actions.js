// Forms that act on a report or on a whole incident alike: send a field team, or open a notice
// draft from what was reported. `path` is the report's or the incident's API path.
import { field, h, options } from '../shared/dom.js';
import { t } from '../shared/i18n.js';

/** Sends a team with a note; `act(path, body, done)` posts and says how it went. */
export function dispatchForm(path, teams, act) {
  if (!teams.length) return h('p', { class: 'hint' }, t('report.no_teams'));
  const team = options(h('select', { id: 'dispatch-team', required: true }), teams.map((x) => [x.id, x.name]), '—');
  const note = h('input', { id: 'dispatch-note', type: 'text', maxlength: 1000 });
  return h('form', { class: 'action-form', id: 'dispatch-form', onsubmit: (event) => {
    event.preventDefault();
    act(`${path}/dispatch`, { team: team.value, note: note.value.trim() || undefined }, t('report.dispatched'));
  } },
  h('h3', {}, t('report.dispatch')),
  field(t('report.team'), team),
  field(t('report.task_note'), note),
  h('button', { type: 'submit' }, t('report.send_team')));
}

/** Opens a notice draft (status always chosen, never assumed) and hands it to `onDraft`. */
export function escalateForm(path, { act, flash, onDraft }) {
  const status = options(h('select', { id: 'escalate-status', required: true }),
    ['Actual', 'Exercise', 'Test'].map((s) => [s, t(`status.${s}`)]), t('notice.choose_status'));
  const area = options(h('select', { id: 'escalate-area' }), [['circle', t('report.area_circle')], ['zones', t('report.area_zones')]]);
  return h('form', { class: 'action-form', id: 'escalate-form', onsubmit: async (event) => {
    event.preventDefault();
    if (!status.value) return flash(t('notice.status_required'), 'error');
    const notice = await act(`${path}/escalate`, { status: status.value, area: area.value }, t('report.escalated'));
    if (notice) onDraft(notice);
  } },
  h('h3', {}, t('report.escalate')),
  field(t('notice.status'), status),
  field(t('report.area'), area),
  h('button', { type: 'submit' }, t('report.open_draft')));
}
