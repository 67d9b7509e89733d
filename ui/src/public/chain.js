// /archivio/{id}: one notice's whole chain, the page every channel links to, with its area on
// the map (the map's code arrives after the words).
import { api } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { language, t } from '../shared/i18n.js';
import { levelRanks, noticeSummary } from '../shared/notice.js';
import { noticeItem } from './notice-card.js';

export async function chainView(id, settings) {
  const back = h('p', {}, h('a', { href: '/archivio' }, t('archive.back')));
  let chain;
  try {
    chain = await api(`/api/v1/public/notices/${encodeURIComponent(id)}`);
  } catch (error) {
    const message = error.status === 404 ? t('archive.missing') : error.message;
    return { title: t('public.archive'), element: h('div', {}, h('h1', {}, t('public.archive')), h('p', { role: 'alert' }, message), back) };
  }
  const ranks = levelRanks(settings);
  const asked = chain.notices.find((notice) => notice.id === id) ?? chain.notices.at(-1);
  const title = noticeSummary(asked, language()).headline ?? noticeSummary(asked, language()).event ?? id;
  const mapElement = h('div', { class: 'map chain-map', role: 'region', 'aria-label': t('archive.map') });
  // Without its map the page still says everything: a map that cannot load is left out.
  const map = showArea(mapElement, settings, chain.notices.filter((notice) => notice.msg_type !== 'Cancel').at(-1) ?? asked)
    .catch(() => null);
  return {
    title,
    dispose: () => map.then((shown) => shown?.remove()),
    element: h('div', { class: 'chain' },
      back,
      h('h1', {}, title),
      h('ol', {}, chain.notices.map((notice) => noticeItem(notice, ranks, { headingLevel: 'h2', withPageLink: notice.id !== id }))),
      mapElement),
  };
}

/** The latest area the chain announced; its map code loads on its own. Resolves to the
 * Leaflet map, for removal when the page is drawn again. */
async function showArea(element, settings, notice) {
  const [{ zoneMap }, { NoticeAreas }] = await Promise.all([import('../shared/map.js'), import('../shared/notice-areas.js')]);
  const map = zoneMap(element, settings);
  const areas = new NoticeAreas(map, 'archive');
  await areas.show([noticeSummary(notice, language())]);
  if (areas.extent?.isValid()) map.map.fitBounds(areas.extent, { maxZoom: 12 });
  return map.map;
}
