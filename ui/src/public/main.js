// The public pages: the archive of every notice the office published (/archivio, one notice's
// chain at /archivio/{id}) and its response-time figures (/statistiche). No login, nothing
// personal; each view is drawn again in the other language when the reader switches.
import 'leaflet/dist/leaflet.css';
import '../shared/base.css';
import './public.css';
import { api } from '../shared/api.js';
import { fill, h } from '../shared/dom.js';
import { addStrings, languageSwitch, onLanguageChange, t } from '../shared/i18n.js';
import { archiveView } from './archive.js';
import { chainView } from './chain.js';
import { statsView } from './stats.js';
import { PUBLIC_STRINGS } from './strings.js';

addStrings(PUBLIC_STRINGS);
const settings = await api('/ui/config.json');
const path = location.pathname.replace(/\/+$/, '');
const noticeId = decoded(path.match(/^\/archivio\/([^/]+)$/)?.[1]);
const page = path === '/statistiche' ? 'stats' : 'archive';

const main = h('main', { id: 'main', tabindex: '-1' });
const nav = h('nav', { 'aria-label': 'public' });

function link(href, key, current) {
  return h('a', { href, 'aria-current': current ? 'page' : null }, t(key));
}

/** A path segment as written, when it is not valid percent-encoding: it then names no notice. */
function decoded(segment) {
  try {
    return segment === undefined ? undefined : decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Draws the view, again in the other language when the reader switches; a draw overtaken by
 * a newer one leaves the page to it. */
let drawn = 0;
let shown = null;
async function draw() {
  const turn = ++drawn;
  nav.setAttribute('aria-label', t('public.nav'));
  fill(nav,
    link('/archivio', 'public.archive', page === 'archive'),
    link('/statistiche', 'public.stats', page === 'stats'),
    link('/', 'public.report', false));
  fill(main, h('p', { role: 'status' }, t('public.loading')));
  let view;
  try {
    view = noticeId !== undefined
      ? await chainView(noticeId, settings)
      : page === 'stats' ? await statsView(settings) : await archiveView(settings);
  } catch (error) {
    view = { title: t('public.archive'), element: h('p', { role: 'alert' }, error.message) };
  }
  if (turn !== drawn) return view.dispose?.();
  shown?.dispose?.();
  shown = view;
  document.title = `${view.title} · ${settings.office_name}`;
  fill(main, view.element);
}

fill(document.body,
  h('header', { class: 'topbar' },
    h('p', { class: 'brand' }, 'Vedetta'), h('span', { class: 'office' }, settings.office_name), nav, languageSwitch()),
  main);
onLanguageChange(draw);
await draw();
