// The queue beside the map: every report, the urgent and nearest to their target first (or
// newest first), filtered by status, category, zone, time and overdue, and updated live, with
// who else has each one open.
import { fill, h, options } from '../shared/dom.js';
import { formatTime, localized, t } from '../shared/i18n.js';
import { PlaceSearch } from '../shared/place-search.js';
import { STATUS_GLYPHS } from './layers.js';
import { byPriority, isUrgent, timeLeft } from './urgency.js';

export const STATUSES = ['received', 'acknowledged', 'in_progress', 'resolved', 'rejected'];
const PERIODS = { all: null, hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };
/** Rows drawn at once; the filters narrow the rest. */
const MAX_ROWS = 200;
const FILTERS = 'vedetta.queue.filters';
/** How often the time left to each target is redrawn. */
const CLOCK_MS = 30e3;

export class Queue {
  constructor(live, { categories, onSelect, bulk, me }) {
    this.live = live;
    this.me = me;
    this.categories = categories;
    this.onSelect = onSelect;
    /** Several reports taken in hand at once, for those who may triage. */
    this.bulk = bulk;
    this.selected = null;
    // The filters an operator set survive a reload (the zone is chosen again by name).
    this.filters = { status: '', category: '', zone: '', period: 'all', overdue: false, order: 'priority', text: '', ...saved() };
    this.filters.zone = '';
    this.list = h('ol', { id: 'queue', class: 'queue' });
    this.count = h('p', { class: 'hint', id: 'queue-count', 'aria-live': 'polite' });
    this.element = h('section', { class: 'panel-body', 'aria-label': t('queue.title') },
      this.filterForm(), this.count, bulk?.element, this.list);
    for (const kind of ['report', 'stats', 'reload', 'presence']) live.addEventListener(kind, () => this.render());
    setInterval(() => this.render(), CLOCK_MS);
    this.render();
  }

  filterForm() {
    const select = (name, entries, all) => {
      const control = options(h('select', { id: `filter-${name}`, onchange: (e) => this.set(name, e.target.value) }), entries, all);
      return h('div', { class: 'field' }, h('label', { for: control.id }, t(`queue.filter_${name}`)), control);
    };
    const text = h('input', { id: 'filter-text', type: 'search', value: this.filters.text, oninput: (e) => this.set('text', e.target.value) });
    const form = h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field wide' }, h('label', { for: text.id }, t('queue.filter_text')), text),
      select('status', STATUSES.map((s) => [s, t(`report.${s}`)]), t('queue.any')),
      select('category', this.categories.map((c) => [c.code, localized(c.name, c.code)]), t('queue.any')),
      // Any zone of any level, found by name: a municipality, its province or its region.
      new PlaceSearch({
        id: 'filter-zone', label: t('queue.filter_zone'), hint: t('queue.zone_hint'),
        onPick: (place) => this.set('zone', place.id),
        onClear: () => this.set('zone', ''),
      }).element,
      select('period', Object.keys(PERIODS).map((p) => [p, t(`queue.period_${p}`)])),
      select('order', ['priority', 'newest'].map((o) => [o, t(`queue.order_${o}`)])),
      h('label', { class: 'choice' },
        h('input', { type: 'checkbox', id: 'filter-overdue', checked: this.filters.overdue, onchange: (e) => this.set('overdue', e.target.checked) }),
        ` ${t('queue.only_overdue')}`));
    for (const name of ['status', 'category', 'period', 'order']) form.querySelector(`#filter-${name}`).value = this.filters[name];
    return form;
  }

  set(name, value) {
    this.filters[name] = value;
    const { zone, ...kept } = this.filters;
    localStorage.setItem(FILTERS, JSON.stringify(kept));
    this.render();
  }

  matches(report) {
    const { status, category, zone, period, overdue, text } = this.filters;
    if (text && !mentions(report, text)) return false;
    if (status && report.status !== status) return false;
    if (category && report.category !== category) return false;
    if (zone && !report.zones.some((z) => z.id === zone)) return false;
    if (overdue && !report.overdue) return false;
    const window = PERIODS[period];
    return !window || Date.now() - Date.parse(report.received_at) <= window;
  }

  select(id) {
    this.selected = id;
    this.render();
  }

  render() {
    const newest = (a, b) => b.received_at.localeCompare(a.received_at);
    const shown = [...this.live.reports.values()]
      .filter((report) => this.matches(report))
      .sort(this.filters.order === 'priority' ? byPriority(this.categories) : newest);
    this.count.textContent = t('queue.count', { shown: shown.length, total: this.live.reports.size });
    fill(this.list, shown.slice(0, MAX_ROWS).map((report) => this.row(report)));
  }

  row(report) {
    const category = this.categories.find((c) => c.code === report.category);
    const name = localized(category?.name, report.category);
    const place = report.zones[0]?.name ?? t('queue.outside');
    return h('li', { class: 'queue-item' },
      this.bulk?.checkbox(report, t('bulk.choose', { kind: name, place })),
      h('button', {
        type: 'button',
        class: `queue-row${report.id === this.selected ? ' selected' : ''}${report.overdue ? ' overdue' : ''}${isUrgent(report, this.categories) ? ' urgent' : ''}`,
        dataset: { reportId: report.id, status: report.status },
        onclick: () => this.onSelect(report.id),
      },
      h('span', { class: `badge status-${report.status}` }, `${STATUS_GLYPHS[report.status]} ${t(`report.${report.status}`)}`),
      report.overdue ? h('span', { class: 'badge overdue' }, t('queue.overdue')) : null,
      h('strong', {}, localized(category?.name, report.category)),
      h('span', { class: 'row-text' }, report.text || '—'),
      h('small', {}, `${formatTime(report.received_at)} · ${report.zones[0]?.name ?? t('queue.outside')}`),
      timeLeft(report) ? h('small', { class: 'time-left' }, timeLeft(report)) : null,
      this.openBy(report)));
  }

  /** Colleagues who have the report open. */
  openBy(report) {
    const others = this.live.othersViewing(report.id, this.me);
    return others.length ? h('small', { class: 'open-by' }, `◉ ${t('queue.open_by', { names: others.join(', ') })}`) : null;
  }
}

function saved() {
  try {
    return JSON.parse(localStorage.getItem(FILTERS) ?? '{}');
  } catch {
    return {};
  }
}

/** Words typed, found in the report's text or the start of its id, accents and case aside. */
function mentions(report, typed) {
  const plain = (text) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const words = plain(typed).split(/\s+/).filter(Boolean);
  const haystack = plain(report.text ?? '');
  return words.every((word) => haystack.includes(word) || report.id.toLowerCase().startsWith(word));
}
