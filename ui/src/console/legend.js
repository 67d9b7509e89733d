// What the map's marks mean, one click away: report markers by status, notice areas by
// severity, field devices by state.
import { h } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { STATUS_GLYPHS } from './layers.js';
import { STATUSES } from './queue.js';

const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor'];
const DEVICE_STATES = ['online', 'offline', 'lost'];

export function legend() {
  const group = (title, items) => h('section', {}, h('h3', {}, title), h('ul', {}, items));
  return h('details', { class: 'legend', id: 'legend' },
    h('summary', {}, t('legend.title')),
    group(t('legend.reports'), STATUSES.map((status) => h('li', {},
      h('span', { class: `badge status-${status}` }, STATUS_GLYPHS[status]), ` ${t(`report.${status}`)}`))),
    group(t('legend.notices'), [
      ...SEVERITIES.map((severity) => h('li', {}, h('span', { class: `badge sev-${severity}` }, t(`severity.${severity}`)))),
      h('li', {}, h('span', { class: 'badge not-real' }, t('status.Test').toUpperCase()), ` ${t('legend.not_real')}`),
      h('li', {}, h('span', { class: 'badge cancellation' }, t('msg_type.Cancel')), ` ${t('legend.cancellation')}`),
    ]),
    group(t('legend.devices'), DEVICE_STATES.map((state) => h('li', {},
      h('span', { class: `device-pin device-${state}` }, h('span', {}, t(`device.${state}`)))))));
}
