// The incidents: the open ones as a list (most open reports first) and on the map, the resolved
// ones on request, and one incident at a time with its reports, to resolve, send a team, open a
// notice draft or merge a nearby one.
import { api } from '../shared/api.js';
import { fill, h, options } from '../shared/dom.js';
import { formatTime, localized, t } from '../shared/i18n.js';
import { dispatchForm, escalateForm } from './actions.js';
import { incidentActions } from './incident.js';
import { STATUS_GLYPHS } from './layers.js';

const SHOWN = ['open', 'resolved'];

export class IncidentsView {
  constructor(live, { categories, detail, layers, user, flash, onReport, onDraft }) {
    Object.assign(this, { live, categories, detail, layers, flash, onReport, onDraft });
    this.mayTriage = ['operator', 'approver'].includes(user.role);
    this.shown = 'open';
    this.list = h('ol', { id: 'incident-list', class: 'cards' });
    const filter = options(h('select', { id: 'incident-filter', onchange: (e) => this.showList(e.target.value) }),
      SHOWN.map((status) => [status, t(`incidents.${status}`)]));
    this.element = h('section', { class: 'panel-body', 'aria-label': t('nav.incidents') },
      h('h2', {}, t('incidents.title')),
      h('div', { class: 'field' }, h('label', { for: filter.id }, t('incidents.show')), filter),
      this.list);
    live.addEventListener('incident', (event) => this.changed(event.detail.value));
  }

  /** Called when the view is shown. */
  load() {
    this.showList(this.shown);
  }

  /** The view was left: the map no longer points at an incident. */
  forget() {
    this.openId = null;
    this.layers.clearIncident();
  }

  async showList(status) {
    this.shown = status;
    const incidents = status === 'open'
      ? [...this.live.incidents.values()].filter((incident) => incident.status === 'open')
      : (await api('/api/v1/incidents?status=resolved&limit=100')).incidents;
    const busiest = (a, b) => b.open_count - a.open_count || b.last_report_at.localeCompare(a.last_report_at);
    fill(this.list, incidents.length ? incidents.sort(busiest).map((incident) => this.row(incident))
      : h('li', { class: 'empty' }, t('incidents.none')));
  }

  row(incident) {
    return h('li', {}, h('button', {
      type: 'button',
      class: `card incident-row${incident.id === this.openId ? ' selected' : ''}`,
      dataset: { incidentId: incident.id },
      onclick: () => this.open(incident.id),
    },
    h('strong', {}, this.categoryName(incident.category)),
    h('span', {}, t('incident.title', { count: incident.report_count, open: incident.open_count })),
    h('small', {}, t('incidents.last_report', { at: formatTime(incident.last_report_at) }))));
  }

  changed(incident) {
    if (!this.element.isConnected) return;
    if (this.shown === 'open') this.showList('open');
    if (incident.id === this.openId) this.open(incident.id);
  }

  async open(id) {
    const opening = id !== this.openId;
    this.openId = id;
    const requests = [api(`/api/v1/incidents/${id}`)];
    if (this.mayTriage) requests.push(api('/api/v1/teams'));
    const [{ incident, reports }, teams] = await Promise.all(requests);
    if (id !== this.openId) return;
    this.live.incidents.set(incident.id, incident);
    this.showList(this.shown);
    this.layers.showIncident(reports, opening);
    const path = `/api/v1/incidents/${id}`;
    const act = (to, body, done) => this.act(to, body, done);
    fill(this.detail, h('article', { class: 'incident-detail', dataset: { incidentId: id }, 'aria-labelledby': 'incident-heading' },
      h('h2', { id: 'incident-heading', tabindex: -1 }, `${t('incidents.one')} · ${this.categoryName(incident.category)}`),
      h('p', {}, h('span', { class: `badge incident-${incident.status}` }, t(`incidents.status_${incident.status}`))),
      h('dl', { class: 'facts' },
        h('dt', {}, t('incidents.started')), h('dd', {}, formatTime(incident.created_at)),
        h('dt', {}, t('incidents.latest')), h('dd', {}, formatTime(incident.last_report_at))),
      h('h3', {}, t('incidents.reports', { count: reports.length })),
      h('ul', { class: 'incident-reports' }, reports.map((report) => this.reportItem(report))),
      this.mayTriage ? incidentActions(incident, this.live, act) : null,
      this.mayTriage && incident.status === 'open' ? dispatchForm(path, teams.teams, act) : null,
      this.mayTriage && incident.status === 'open' ? escalateForm(path, { act, flash: this.flash, onDraft: this.onDraft }) : null));
    if (opening) this.detail.querySelector('#incident-heading').focus({ preventScroll: true });
  }

  reportItem(report) {
    return h('li', {}, h('button', { type: 'button', class: 'link', dataset: { reportId: report.id }, onclick: () => this.onReport(report.id) },
      h('span', { class: `badge status-${report.status}` }, `${STATUS_GLYPHS[report.status]} ${t(`report.${report.status}`)}`),
      ` ${report.text || '—'} `,
      h('small', {}, `${formatTime(report.received_at)} · ${report.zones[0]?.name ?? t('queue.outside')}`)));
  }

  async act(path, body, done) {
    try {
      const result = await api(path, { method: 'POST', body });
      this.flash(done, 'ok');
      if (this.openId) await this.open(this.openId);
      return result;
    } catch (err) {
      this.flash(err.message, 'error');
      return null;
    }
  }

  categoryName(code) {
    return localized(this.categories.find((c) => c.code === code)?.name, code);
  }
}
