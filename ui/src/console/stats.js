// The statistics dashboard: how many reports, of what, where and how fast they were answered
// against the targets, over a chosen period, category and zone; the timeline drawn by uPlot,
// every figure also as a table; and the open-data export.
// Its stylesheet is tiny and comes with the console; the library itself only with this view.
import 'uplot/dist/uPlot.min.css';
import { api, download } from '../shared/api.js';
import { fill, h, options } from '../shared/dom.js';
import { formatTime, language, localized, t } from '../shared/i18n.js';
import { PlaceSearch } from '../shared/place-search.js';
import { STATUSES } from './queue.js';

const PERIODS = { day: 86400e3, week: 7 * 86400e3, month: 30 * 86400e3, quarter: 91 * 86400e3, all: null };
/** Hours for a day or a week, days beyond. */
const BUCKETS = { day: 'hour', week: 'hour', month: 'day', quarter: 'day', all: 'day' };
const SECONDS = { hour: 3600, day: 86400 };
/** Series of the timeline, with colours told apart without colour too (dashes). */
const SERIES = [
  { key: 'received', stroke: '#b71c1c', dash: [] },
  { key: 'acknowledged', stroke: '#0d47a1', dash: [6, 4] },
  { key: 'resolved', stroke: '#1b5e20', dash: [2, 3] },
];
const TOP_ZONES = 10;

export class StatsView {
  constructor({ categories }) {
    this.categories = categories;
    this.filters = { period: 'week', category: '', zone: '' };
    this.figures = h('div', { class: 'stats-figures', 'aria-live': 'polite' });
    this.element = h('section', { class: 'stats', 'aria-labelledby': 'stats-title' },
      h('h2', { id: 'stats-title' }, t('stats.title')),
      this.filterForm(),
      this.figures);
  }

  filterForm() {
    const select = (name, entries, all) => {
      const control = options(h('select', { id: `stats-${name}`, onchange: (e) => this.set(name, e.target.value) }), entries, all);
      control.value = this.filters[name];
      return h('div', { class: 'field' }, h('label', { for: control.id }, t(`stats.${name}`)), control);
    };
    return h('form', { class: 'filters stats-filters', onsubmit: (e) => e.preventDefault() },
      select('period', Object.keys(PERIODS).map((p) => [p, t(`stats.period_${p}`)])),
      select('category', this.categories.map((c) => [c.code, localized(c.name, c.code)]), t('queue.any')),
      new PlaceSearch({
        id: 'stats-zone', label: t('stats.zone'), hint: t('queue.zone_hint'),
        onPick: (place) => this.set('zone', place.id),
        onClear: () => this.set('zone', ''),
      }).element,
      h('div', { class: 'button-row' },
        h('button', { type: 'button', id: 'export-csv', onclick: () => this.export('csv') }, t('stats.export_csv')),
        h('button', { type: 'button', id: 'export-geojson', onclick: () => this.export('geojson') }, t('stats.export_geojson'))));
  }

  set(name, value) {
    this.filters[name] = value;
    this.load();
  }

  /** When the chosen period starts (ms), or null for all time. */
  since() {
    const window = PERIODS[this.filters.period];
    return window ? Date.now() - window : null;
  }

  query(withZone = true) {
    const parts = [];
    const since = this.since();
    if (since) parts.push(`since=${new Date(since).toISOString()}`);
    if (this.filters.category) parts.push(`category=${encodeURIComponent(this.filters.category)}`);
    if (withZone && this.filters.zone) parts.push(`zone=${encodeURIComponent(this.filters.zone)}`);
    return parts.join('&');
  }

  async load() {
    this.chart?.destroy();
    this.chart = null;
    let stats;
    try {
      stats = await api(`/api/v1/stats?${this.query()}&bucket=${BUCKETS[this.filters.period]}`);
    } catch (err) {
      return fill(this.figures, h('p', { class: 'error' }, err.message));
    }
    const timeline = h('figure', { class: 'timeline', id: 'stats-timeline' });
    fill(this.figures,
      h('p', { class: 'hint' }, t('stats.generated', { at: formatTime(stats.generated_at) })),
      this.summary(stats),
      h('h3', {}, t('stats.timeline', { bucket: t(`stats.bucket_${stats.timeline.bucket}`) })),
      timeline,
      this.timelineTable(stats.timeline),
      h('div', { class: 'stats-columns' },
        this.responseTimes(stats),
        this.counts(t('stats.by_category'), 'stats-categories',
          Object.entries(stats.by_category).map(([code, count]) => [this.categoryName(code), count])),
        this.counts(t('stats.by_zone'), 'stats-zones',
          stats.by_zone.slice(0, TOP_ZONES).map((zone) => [zone.name ?? zone.zone_id, zone.count]))));
    this.chart = await drawTimeline(timeline, stats.timeline, this.since());
  }

  summary(stats) {
    const open = ['received', 'acknowledged', 'in_progress'].reduce((sum, s) => sum + (stats.by_status[s] ?? 0), 0);
    const figure = (id, label, value, alarm) => h('div', { class: `figure${alarm ? ' alarm' : ''}`, id },
      h('strong', {}, value), h('span', {}, label));
    return h('div', { class: 'stats-summary' },
      figure('stats-total', t('stats.total'), stats.total),
      figure('stats-open', t('counters.open'), open),
      figure('stats-overdue', t('counters.overdue'), stats.overdue, stats.overdue > 0),
      STATUSES.map((status) => figure(`stats-${status}`, t(`report.${status}`), stats.by_status[status] ?? 0)));
  }

  responseTimes(stats) {
    const row = (label, durations) => h('tr', {},
      h('th', { scope: 'row' }, label),
      h('td', {}, duration(durations.median_secs)),
      h('td', {}, duration(durations.p90_secs)),
      h('td', {}, durations.count ? `${Math.round((100 * durations.within_target) / durations.count)}% (${durations.within_target}/${durations.count})` : '—'));
    return h('table', { class: 'stats-table', id: 'stats-times' },
      h('caption', {}, t('stats.response_times')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, t('stats.median')),
        h('th', { scope: 'col' }, t('stats.p90')), h('th', { scope: 'col' }, t('stats.within_target')))),
      h('tbody', {},
        row(t('stats.to_acknowledge'), stats.time_to_acknowledge),
        row(t('stats.to_resolve'), stats.time_to_resolve)));
  }

  /** Counts as a table with a bar in each row, longest first. */
  counts(caption, id, rows) {
    const most = Math.max(1, ...rows.map(([, count]) => count));
    return h('table', { class: 'stats-table', id },
      h('caption', {}, caption),
      h('tbody', {}, rows.length ? rows.map(([label, count]) => h('tr', {},
        h('th', { scope: 'row' }, label),
        h('td', { class: 'bar-cell' }, h('span', { class: 'bar', style: `width: ${(100 * count) / most}%` }), h('span', {}, count))))
        : h('tr', {}, h('td', {}, t('stats.nothing')))));
  }

  /** The timeline's figures for those who don't read charts, folded away. */
  timelineTable(timeline) {
    return h('details', { class: 'timeline-data' },
      h('summary', {}, t('stats.as_table')),
      h('table', { class: 'stats-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('stats.when')),
          SERIES.map((series) => h('th', { scope: 'col' }, t(`stats.${series.key}`))))),
        h('tbody', {}, timeline.points.map((point) => h('tr', {},
          h('th', { scope: 'row' }, formatTime(point.start)),
          SERIES.map((series) => h('td', {}, point[series.key])))))));
  }

  /** The open data of the chosen period and category, as a file (it needs the login, so it is
   * fetched, not linked). */
  async export(format) {
    try {
      await download(`/api/v1/reports/export.${format}?${this.query(false)}`, `vedetta-segnalazioni.${format}`);
    } catch (err) {
      fill(this.figures.querySelector('.hint') ?? this.figures, h('span', { class: 'error' }, err.message));
    }
  }

  categoryName(code) {
    return localized(this.categories.find((c) => c.code === code)?.name, code);
  }
}

async function drawTimeline(element, timeline, since) {
  if (!timeline.points.length) {
    element.append(h('p', { class: 'hint' }, t('stats.nothing')));
    return null;
  }
  const { default: uPlot } = await import('uplot');
  const data = everyBucket(timeline, since);
  const chart = new uPlot({
    width: Math.max(320, Math.min(element.clientWidth || 900, 1100)),
    height: 260,
    title: t('stats.timeline_chart'),
    series: [
      { label: t('stats.when'), value: (_, seconds) => (seconds ? formatTime(new Date(seconds * 1000).toISOString()) : '—') },
      ...SERIES.map((series) => ({ label: t(`stats.${series.key}`), stroke: series.stroke, dash: series.dash, width: 2 })),
    ],
    // Dates the way the operator reads them, not uPlot's American default.
    axes: [
      { space: 90, size: 50, values: (_, splits) => splits.map((seconds) => axisDate(seconds, timeline.bucket)) },
      { label: t('stats.reports'), size: 50 },
    ],
    scales: { y: { range: (_, min, max) => [0, Math.max(1, max)] } },
  }, data, element);
  chart.root.setAttribute('role', 'img');
  chart.root.setAttribute('aria-label', t('stats.timeline_chart'));
  return chart;
}

/** The timeline with a zero for each quiet bucket, from the period's start (or the first
 * bucket) to now: the API lists only buckets in which something happened. */
function everyBucket(timeline, since) {
  const step = SECONDS[timeline.bucket];
  const floor = (seconds) => Math.floor(seconds / step) * step;
  const byStart = new Map(timeline.points.map((point) => [Date.parse(point.start) / 1000, point]));
  const first = since ? floor(since / 1000) : Math.min(...byStart.keys());
  const times = [];
  for (let at = first; at <= floor(Date.now() / 1000); at += step) times.push(at);
  return [times, ...SERIES.map((series) => times.map((at) => byStart.get(at)?.[series.key] ?? 0))];
}

function axisDate(seconds, bucket) {
  const locale = language() === 'it' ? 'it-IT' : 'en-GB';
  const at = new Date(seconds * 1000);
  const day = at.toLocaleDateString(locale, { day: 'numeric', month: 'short' });
  return bucket === 'hour' ? `${day}\n${at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })}` : day;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 90) return t('stats.seconds', { n: Math.round(seconds) });
  if (seconds < 5400) return t('stats.minutes', { n: Math.round(seconds / 60) });
  return t('stats.hours', { n: (seconds / 3600).toFixed(1) });
}
