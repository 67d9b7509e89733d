// An incident's actions, from one of its reports or from the incident itself: resolving all its
// reports with one note to every reporter, splitting a report off, or merging a nearby incident
// of the same kind into this one.
import { field, h, options } from '../shared/dom.js';
import { t } from '../shared/i18n.js';

/** Open incidents nearer than this (in degrees, about 5 km) are offered for merging. */
const NEARBY_DEGREES = 0.05;

/** The incident form for `report`, or nothing when it has no incident; `act(path, body, done)`
 * posts and reports the outcome. */
export function incidentForm(report, live, act) {
  const incident = report.incident_id && live.incidents.get(report.incident_id);
  if (!incident || incident.status !== 'open') return null;
  const split = incident.report_count > 1
    ? h('button', { type: 'button', id: 'incident-split', onclick: () => act(`/api/v1/incidents/${incident.id}/split`, { reports: [report.id] }, t('incident.split_done')) }, t('incident.split'))
    : null;
  return incidentActions(incident, live, act, split);
}

/** Resolving an open incident with one note to every reporter, and merging a nearby one of the
 * same kind into it; `extra` joins the resolve button. */
export function incidentActions(incident, live, act, extra = null) {
  if (incident.status !== 'open') return null;
  const path = `/api/v1/incidents/${incident.id}`;
  const note = h('input', { id: 'incident-note', maxlength: 1000 });
  const others = nearby(incident, live);
  const merge = others.length
    ? options(h('select', { id: 'incident-merge' }), others.map((other) => [other.id, t('incident.other', { count: other.report_count })]))
    : null;
  return h('section', { class: 'action-form', id: 'incident-form', 'aria-labelledby': 'incident-title' },
    h('h3', { id: 'incident-title' }, t('incident.title', { count: incident.report_count, open: incident.open_count })),
    field(t('incident.note'), note),
    h('div', { class: 'button-row' },
      h('button', { type: 'button', id: 'incident-resolve', onclick: () => act(`${path}/resolve`, note.value.trim() ? { public_note: note.value.trim() } : {}, t('incident.resolved')) },
        t('incident.resolve')),
      extra),
    merge ? field(t('incident.merge_choice'), merge) : null,
    merge ? h('button', { type: 'button', id: 'incident-merge-button', onclick: () => act(`${path}/merge`, { incidents: [merge.value] }, t('incident.merged')) }, t('incident.merge')) : null);
}

/** Other open incidents of the same kind close by, nearest first. */
function nearby(incident, live) {
  const distance = (other) => Math.hypot(other.location.lat - incident.location.lat, other.location.lon - incident.location.lon);
  return [...live.incidents.values()]
    .filter((other) => other.id !== incident.id && other.status === 'open' && other.category === incident.category)
    .filter((other) => distance(other) < NEARBY_DEGREES)
    .sort((a, b) => distance(a) - distance(b));
}
