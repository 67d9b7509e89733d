// /archivio: every published chain, newest first, filtered by period, zone, severity and event.
// The filters live in the address, so a search can be bookmarked and shared.
import { api } from '../shared/api.js';
import { field, h, options } from '../shared/dom.js';
import { language, t } from '../shared/i18n.js';
import { levelRanks, noticeSummary } from '../shared/notice.js';
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
  const feedQuery = apiQuery(asked).toString();
  const feed = `/feeds/archivio.atom${feedQuery ? `?${feedQuery}` : ''}`;
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

/** The API's filters from the page's: whole days of the reader's own calendar, from the
 * first's midnight to the last's end, as the times on the page are shown. */
function apiQuery(asked) {
  const query = new URLSearchParams();
  const since = localMidnight(asked.get('since'), 0);
  const until = localMidnight(asked.get('until'), 1);
  if (since) query.set('since', since);
  if (until) query.set('until', until);
  for (const name of ['zone', 'severity', 'event']) if (asked.get(name)) query.set(name, asked.get(name));
  return query;
}

/** `YYYY-MM-DD` plus `days`, at local midnight, as RFC 3339; nothing for anything else. */
function localMidnight(day, days) {
  const [, year, month, date] = day?.match(/^(\d{4})-(\d{2})-(\d{2})$/) ?? [];
  if (!year) return null;
  const at = new Date(Number(year), Number(month) - 1, Number(date) + days);
  return Number.isNaN(at.getTime()) ? null : at.toISOString().replace('.000', '');
}

function filters(asked) {
  const input = (name, type) => h('input', { id: `filter-${name}`, name, type, value: asked.get(name) ?? '' });
  // The zone's id for the hub, its name for the box when the page comes back.
  const zone = h('input', { type: 'hidden', name: 'zone', value: asked.get('zone') ?? '' });
  const zoneName = h('input', { type: 'hidden', name: 'place', value: asked.get('place') ?? '' });
  const place = new PlaceSearch({
    id: 'filter-place', label: t('archive.zone'), hint: t('place.hint'),
    onPick: (found) => { zone.value = found.id; zoneName.value = found.name; },
    onClear: () => { zone.value = ''; zoneName.value = ''; },
  });
  if (asked.get('zone')) place.input.value = asked.get('place') || asked.get('zone');
  const severity = options(h('select', { id: 'filter-severity', name: 'severity' }),
    SEVERITIES.map((code) => [code, t(`severity.${code}`)]), t('archive.any'));
  severity.value = asked.get('severity') ?? '';
  // A plain GET form: the browser puts the filters in the address and loads the page again.
  return h('form', { class: 'card', method: 'get', action: '/archivio', 'aria-labelledby': 'filters-title' },
    h('h2', { id: 'filters-title' }, t('archive.filters')),
    h('div', { class: 'filters' },
      field(t('archive.since'), input('since', 'date')),
      field(t('archive.until'), input('until', 'date')),
      place.element, zone, zoneName,
      field(t('archive.severity'), severity),
      field(t('archive.event'), input('event', 'search')),
      h('div', { class: 'button-row' },
        h('button', { type: 'submit', class: 'primary' }, t('archive.search')),
        FIELDS.some((name) => asked.get(name)) ? h('a', { href: '/archivio' }, t('archive.clear')) : null)));
}

function chainCard(chain, ranks) {
  const first = noticeSummary(chain.notices[0], language());
  const headingId = `chain-${chain.thread_id}`;
  return h('li', { class: 'card chain', 'aria-labelledby': headingId },
    h('h2', { id: headingId, class: 'visually-hidden' },
      `${t('archive.chain', { count: chain.notices.length })}: ${first.event ?? ''}`),
    h('ol', {}, chain.notices.map((notice) => noticeItem(notice, ranks))));
}
