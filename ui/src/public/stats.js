// /statistiche: the office's public response-time figures, month by month, then one month by
// category and by zone, against the published targets. Small counts arrive as "< 5" and are
// shown as they arrive.
import { api } from '../shared/api.js';
import { field, h, options } from '../shared/dom.js';
import { language, localized, t } from '../shared/i18n.js';

const FIGURE_COLUMNS = ['stats.reports', 'stats.ack_share', 'stats.resolve_share', 'stats.ack_times', 'stats.resolve_times'];

export async function statsView(settings) {
  const asked = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const name of ['from', 'to']) if (/^\d{4}-\d{2}$/.test(asked.get(name) ?? '')) query.set(name, asked.get(name));
  const [figures, { categories }] = await Promise.all([
    api(`/api/v1/public/stats?${query}`).catch((error) => ({ error })),
    api('/api/v1/categories'),
  ]);
  const names = new Map(categories.map((category) => [category.code, localized(category.name, category.code)]));
  const head = [h('h1', {}, t('public.stats')), h('p', {}, t('stats.intro', { office: settings.office_name })),
    periodForm(asked, figures)];
  if (figures.error) return { title: t('public.stats'), element: h('div', {}, head, h('p', { role: 'alert' }, figures.error.message)) };
  const month = figures.months.find((m) => m.month === asked.get('month')) ?? figures.months.at(-1);
  return {
    title: t('public.stats'),
    element: h('div', {}, head,
      scrollable(t('stats.by_month'), table(t('stats.by_month'), t('stats.month'),
        figures.months.map((m) => [monthName(m.month), m.all]))),
      h('h2', {}, `${t('stats.detail')}: ${monthName(month.month)}`),
      monthPicker(asked, figures.months, month),
      scrollable(t('stats.by_category'), table(t('stats.by_category'), t('stats.category'),
        month.by_category.map((cell) => [names.get(cell.category) ?? cell.category, cell]))),
      scrollable(t('stats.by_zone'), table(t('stats.by_zone'), levelName(figures.level),
        month.by_zone.map((cell) => [cell.name ?? t('stats.other_zones'), cell]))),
      targets(figures.targets, names),
      h('p', { class: 'hint' }, t('stats.small', { min: figures.min_count })),
      h('p', { class: 'hint' }, t('stats.withheld')),
      h('p', { class: 'hint' }, t('stats.utc'))),
  };
}

function periodForm(asked, figures) {
  const month = (name, value) => h('input', { id: `stats-${name}`, name, type: 'month', value: value ?? '' });
  return h('form', { class: 'card filters', method: 'get', action: '/statistiche' },
    field(t('stats.from'), month('from', figures.from ?? asked.get('from'))),
    field(t('stats.to'), month('to', figures.to ?? asked.get('to'))),
    h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'primary' }, t('stats.show'))));
}

/** A choice of the month shown in detail: a GET form that keeps the period. */
function monthPicker(asked, months, shown) {
  const select = options(h('select', { id: 'stats-month', name: 'month' }),
    months.map((m) => [m.month, monthName(m.month)]).reverse());
  select.value = shown.month;
  const kept = ['from', 'to'].filter((name) => asked.get(name))
    .map((name) => h('input', { type: 'hidden', name, value: asked.get(name) }));
  return h('form', { class: 'button-row', method: 'get', action: '/statistiche' },
    kept, field(t('stats.month'), select), h('button', { type: 'submit' }, t('stats.show')));
}

/** A wide table on a phone scrolls sideways: its frame takes the keyboard, so that it can. */
function scrollable(label, content) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label }, content);
}

function table(caption, firstColumn, rows) {
  return h('table', { class: 'figures' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, firstColumn), FIGURE_COLUMNS.map((key) => h('th', { scope: 'col' }, t(key))))),
    h('tbody', {}, rows.map(([label, cell]) => h('tr', {},
      h('th', { scope: 'row' }, label),
      h('td', {}, count(cell.reports)),
      h('td', {}, share(cell.acknowledged_within_target)),
      h('td', {}, share(cell.resolved_within_target)),
      h('td', {}, times(cell.acknowledge_median_secs, cell.acknowledge_p90_secs)),
      h('td', {}, times(cell.resolve_median_secs, cell.resolve_p90_secs))))));
}

function targets(list, names) {
  return h('table', { class: 'figures' },
    h('caption', {}, t('stats.targets')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('stats.category')),
      h('th', { scope: 'col' }, t('stats.target_ack')), h('th', { scope: 'col' }, t('stats.target_resolve')))),
    h('tbody', {}, list.map((target) => h('tr', {},
      h('th', { scope: 'row' }, names.get(target.category) ?? target.category),
      h('td', {}, duration(target.acknowledge_within_secs)),
      h('td', {}, duration(target.resolve_within_secs))))));
}

function count(reports) {
  return reports === 'withheld' ? t('stats.withheld_cell') : String(reports);
}

function share(value) {
  if (value === null || value === undefined) return t('stats.none');
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(value);
}

function times(median, p90) {
  if (median === null || median === undefined) return t('stats.none');
  return `${duration(median)} / ${duration(p90)}`;
}

/** Seconds in the largest unit that keeps them readable: "12 min", "3,5 h", "2 g". */
function duration(seconds) {
  const [amount, unit] = seconds < 3600 ? [seconds / 60, 'minute'] : seconds < 172800 ? [seconds / 3600, 'hour'] : [seconds / 86400, 'day'];
  return new Intl.NumberFormat(locale(), { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(amount);
}

/** "Municipality" for `municipality`; a level the pages have no word for as it is named. */
function levelName(level) {
  const key = `level.${level}.one`;
  const name = t(key) === key ? level : t(key);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function monthName(month) {
  return new Date(`${month}-01T00:00:00Z`).toLocaleDateString(locale(), { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

function locale() {
  return language() === 'it' ? 'it-IT' : 'en-GB';
}
