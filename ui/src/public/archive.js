// /archivio: every published chain, newest first, filtered by period, zone, severity and event.
// The filters live in the address, so a search can be bookmarked and shared.
import { api } from '../shared/api.js';
import { field, h, options } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { levelRanks } from '../shared/notice.js';
import { PlaceSearch } from '../shared/place-search.js';
import { noticeItem } from './notice-card.js';

const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'];
const FIELDS = ['since', 'until', 'zone', 'severity', 'event'];

export async function archiveView(settings) {
  const asked = new URLSearchParams(location.search);
  const ranks = levelRanks(settings);
  const list = h('ol', { class: 'cards', id: 'archive-list' });
  const status = h('p', { role: 'status', id: 'archive-status' });
  const more = h('button', { type: 'button', hidden: true }, t('archive.more'));
  let cursor = null;

  async function load() {
    const query = apiQuery(asked);
    if (cursor) query.set('cursor', cursor);
    const page = await api(`/api/v1/public/notices?${query}`);
    page.chains.forEach((chain) => list.append(chainCard(chain, ranks)));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    status.textContent = list.children.length ? t('archive.count', { count: list.children.length }) : t('archive.none');
  }
  more.addEventListener('click', () => load().catch((error) => (status.textContent = error.message)));
  await load().catch((error) => (status.textContent = error.message));
  const feed = `/feeds/archivio.atom${location.search}`;
  return {
    title: t('public.archive'),
    element: h('div', {},
      h('h1', {}, t('public.archive')),
      h('p', {}, t('archive.intro', { office: settings.office_name })),
      filters(asked),
      status, list, more,
      h('p', { class: 'links' }, h('a', { href: feed, type: 'application/atom+xml' }, t('archive.atom')))),
  };
}

/** The API's filters from the page's: whole days, from the first's midnight to the last's end. */
function apiQuery(asked) {
  const query = new URLSearchParams();
  const day = (name) => asked.get(name)?.match(/^\d{4}-\d{2}-\d{2}$/)?.[0];
  if (day('since')) query.set('since', `${day('since')}T00:00:00Z`);
  if (day('until')) {
    const next = new Date(`${day('until')}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    query.set('until', next.toISOString().replace('.000', ''));
  }
  for (const name of ['zone', 'severity', 'event']) if (asked.get(name)) query.set(name, asked.get(name));
  return query;
}

function filters(asked) {
  const input = (name, type) => h('input', { id: `filter-${name}`, name, type, value: asked.get(name) ?? '' });
  const zone = h('input', { type: 'hidden', name: 'zone', value: asked.get('zone') ?? '' });
  const place = new PlaceSearch({
    id: 'filter-place', label: t('archive.zone'), hint: t('place.hint'),
    onPick: (found) => (zone.value = found.id),
    onClear: () => (zone.value = ''),
  });
  if (asked.get('zone')) place.input.value = asked.get('zone');
  const severity = options(h('select', { id: 'filter-severity', name: 'severity' }),
    SEVERITIES.map((code) => [code, t(`severity.${code}`)]), t('archive.any'));
  severity.value = asked.get('severity') ?? '';
  // A plain GET form: the browser puts the filters in the address and loads the page again.
  return h('form', { class: 'card', method: 'get', action: '/archivio', 'aria-labelledby': 'filters-title' },
    h('h2', { id: 'filters-title' }, t('archive.filters')),
    h('div', { class: 'filters' },
      field(t('archive.since'), input('since', 'date')),
      field(t('archive.until'), input('until', 'date')),
      place.element, zone,
      field(t('archive.severity'), severity),
      field(t('archive.event'), input('event', 'search')),
      h('div', { class: 'button-row' },
        h('button', { type: 'submit', class: 'primary' }, t('archive.search')),
        FIELDS.some((name) => asked.get(name)) ? h('a', { href: '/archivio' }, t('archive.clear')) : null)));
}

function chainCard(chain, ranks) {
  const first = chain.notices[0];
  const headingId = `chain-${chain.thread_id}`;
  return h('li', { class: 'card chain', 'aria-labelledby': headingId },
    h('h2', { id: headingId, class: 'visually-hidden' },
      `${t('archive.chain', { count: chain.notices.length })}: ${first?.content?.info ? Object.values(first.content.info)[0]?.event ?? '' : ''}`),
    h('ol', {}, chain.notices.map((notice) => noticeItem(notice, ranks))));
}
