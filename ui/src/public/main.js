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
const noticeId = path.match(/^\/archivio\/([^/]+)$/)?.[1];
const page = path === '/statistiche' ? 'stats' : 'archive';

const main = h('main', { id: 'main', tabindex: '-1' });
const nav = h('nav', { 'aria-label': 'public' });

function link(href, key, current) {
  return h('a', { href, 'aria-current': current ? 'page' : null }, t(key));
}

async function draw() {
  nav.setAttribute('aria-label', t('public.nav'));
  fill(nav,
    link('/archivio', 'public.archive', page === 'archive'),
    link('/statistiche', 'public.stats', page === 'stats'),
    link('/', 'public.report', false));
  fill(main, h('p', { role: 'status' }, t('public.loading')));
  const view = noticeId
    ? await chainView(decodeURIComponent(noticeId), settings)
    : page === 'stats' ? await statsView(settings) : await archiveView(settings);
  document.title = `${view.title} · ${settings.office_name}`;
  fill(main, view.element);
}

fill(document.body,
  h('header', { class: 'topbar' },
    h('p', { class: 'brand' }, 'Vedetta'), h('span', { class: 'office' }, settings.office_name), nav, languageSwitch()),
  main);
onLanguageChange(draw);
await draw();
