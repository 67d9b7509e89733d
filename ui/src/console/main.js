// The operators' console: log in, then the live map with the queue, reports, notices,
// incidents, teams and statistics and, for admins, the audit log. Each role sees only the actions it may take.
// First: the console's words must be there before any module below draws with them.
import './strings.js';
import 'leaflet/dist/leaflet.css';
import '../shared/base.css';
import './console.css';
import { api, setToken, whenUnauthorized } from '../shared/api.js';
import { field, fill, h } from '../shared/dom.js';
import { formatTime, languageSwitch, localized, onLanguageChange, t, tCount } from '../shared/i18n.js';
import { zoneMap } from '../shared/map.js';
import { PlaceSearch } from '../shared/place-search.js';
import { auditView } from './audit.js';
import { MapLayers } from './layers.js';
import { Live } from './live.js';
import { NoticesView } from './notices.js';
import { Queue } from './queue.js';
import { UrgentAlerts } from './urgency.js';
import { BulkAcknowledge } from './bulk.js';
import { legend } from './legend.js';
import { TeamsView } from './teams.js';
import { IncidentsView } from './incidents.js';
import { StatsView } from './stats.js';
import { ReportPanel } from './report.js';

const TOKEN = 'vedetta.token';
const savedToken = sessionStorage.getItem(TOKEN);
whenUnauthorized(() => logOut());
if (savedToken) setToken(savedToken);
// Asked for together: on a slow link each round trip is a pause before the map.
const [settings, { categories }, me] = await Promise.all([
  api('/ui/config.json'),
  api('/api/v1/categories'),
  savedToken ? api('/api/v1/auth/me').catch(() => null) : null,
]);
document.title = `Vedetta · ${t('console.title')}`;
// Every label is drawn in the chosen language; the session survives the reload.
onLanguageChange(() => location.reload());
start();

async function start() {
  if (!savedToken) return showLogin();
  try {
    if (!me) throw new Error('the session is gone');
    await openConsole(me, savedToken);
  } catch {
    logOut();
  }
}

function showLogin(message) {
  const name = h('input', { id: 'login-name', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  fill(document.body, h('main', { class: 'login' },
    h('form', { id: 'login-form', onsubmit: async (event) => {
      event.preventDefault();
      let session;
      try {
        session = await api('/api/v1/auth/login', { method: 'POST', body: { name: name.value, password: password.value } });
      } catch (err) {
        error.textContent = err.message;
        return;
      }
      sessionStorage.setItem(TOKEN, session.token);
      setToken(session.token);
      await openConsole(session.user, session.token);
    } },
    h('h1', {}, 'Vedetta'),
    h('p', {}, settings.office_name),
    field(t('login.name'), name),
    field(t('login.password'), password),
    h('button', { type: 'submit', class: 'primary wide' }, t('login.submit')),
    error,
    languageSwitch())));
  name.focus();
}

async function logOut() {
  const token = sessionStorage.getItem(TOKEN);
  sessionStorage.removeItem(TOKEN);
  if (token) await api('/api/v1/auth/logout', { method: 'POST' }).catch(() => {});
  setToken(null);
  location.reload();
}

async function openConsole(user, token) {
  if (user.role === 'admin') return openAdminConsole(user);
  const shell = layout(user);
  fill(document.body, shell.root);
  // The zones come as tiles while the map is looked at: nothing national is downloaded first.
  const zones = zoneMap(shell.map, settings);
  shell.mapTools.append(legend());
  shell.mapTools.append(new PlaceSearch({
    id: 'map-search', label: t('console.map_search'), quietHint: true, hint: t('place.hint'),
    onPick: (place) => zones.showBbox(place.bbox),
  }).element);
  const live = new Live(token);
  await live.load();
  const reportPanel = new ReportPanel(shell.detail, {
    user, categories, live, flash: shell.flash,
    onDraft: (notice) => { views.show('notices'); notices.open(notice.id); },
  });
  const categoryName = (code) => localized(categories.find((c) => c.code === code)?.name, code);
  const layers = new MapLayers(zones, live, { onReport: (id) => selectReport(id), onIncident: (id) => selectIncident(id), categoryName });
  const mayTriage = ['operator', 'approver'].includes(user.role);
  const bulk = mayTriage ? new BulkAcknowledge(live, { flash: shell.flash }) : null;
  const queue = new Queue(live, { categories, onSelect: (id) => selectReport(id), bulk, me: user.name });
  const alerts = new UrgentAlerts(live, categories);
  shell.alerts.append(alerts.element);
  const notices = new NoticesView({ user, live, zoneMap: zones, detail: shell.detail, flash: shell.flash });
  const teams = new TeamsView(live, { onReport: (id) => selectReport(id) });
  const incidents = new IncidentsView(live, {
    categories, detail: shell.detail, layers, user, flash: shell.flash,
    onReport: (id) => selectReport(id),
    onDraft: (notice) => { views.show('notices'); notices.open(notice.id); },
  });
  const stats = new StatsView({ categories });
  const views = new Views(shell, { queue, notices, teams, incidents, stats, user });
  counters(shell.counters, live);
  live.addEventListener('connection', (event) => shell.connection(event.detail.value));
  live.addEventListener('unauthorized', () => logOut());
  views.show('map');

  views.onLeave = () => {
    reportPanel.forget();
    incidents.forget();
  };

  function selectReport(id) {
    views.show('map');
    queue.select(id);
    reportPanel.open(id);
    const report = live.reports.get(id);
    if (report) layers.focus(report);
  }

  function selectIncident(id) {
    views.show('incidents');
    incidents.open(id);
  }
}

/** Admins manage accounts and read the audit log; the reports, map and notices are not theirs. */
function openAdminConsole(user) {
  const shell = layout(user);
  fill(document.body, shell.root);
  shell.root.dataset.view = 'audit';
  shell.nav.querySelector('#nav-audit').setAttribute('aria-current', 'page');
  fill(shell.wide, auditView());
}

class Views {
  constructor(shell, { queue, notices, teams, incidents, stats, user }) {
    this.stats = stats;
    this.shell = shell;
    this.panels = { map: queue.element, notices: notices.element, teams: teams.element, incidents: incidents.element };
    this.teams = teams;
    this.incidents = incidents;
    this.notices = notices;
    this.user = user;
    shell.nav.addEventListener('click', (event) => {
      const view = event.target.closest('button')?.dataset.view;
      if (view) this.show(view);
    });
  }

  show(view) {
    if (view === this.current) return;
    this.current = view;
    this.notices.closeForm();
    this.onLeave?.();
    for (const button of this.shell.nav.querySelectorAll('button')) {
      button.setAttribute('aria-current', button.dataset.view === view ? 'page' : 'false');
    }
    this.shell.root.dataset.view = view;
    if (view === 'audit') return fill(this.shell.wide, auditView());
    if (view === 'stats') {
      fill(this.shell.wide, this.stats.element);
      return this.stats.load();
    }
    fill(this.shell.panel, this.panels[view]);
    const hint = { notices: 'console.pick_notice', incidents: 'console.pick_incident' }[view] ?? 'console.pick_report';
    fill(this.shell.detail, h('p', { class: 'hint' }, t(hint)));
    if (view === 'notices') this.notices.load();
    if (view === 'teams') this.teams.load();
    if (view === 'incidents') this.incidents.load();
  }
}

function layout(user) {
  const admin = user.role === 'admin';
  const nav = h('nav', { 'aria-label': t('nav.label') },
    admin ? null : h('button', { type: 'button', dataset: { view: 'map' }, id: 'nav-map' }, t('nav.map')),
    admin ? null : h('button', { type: 'button', dataset: { view: 'notices' }, id: 'nav-notices' }, t('nav.notices')),
    admin ? null : h('button', { type: 'button', dataset: { view: 'incidents' }, id: 'nav-incidents' }, t('nav.incidents')),
    admin ? null : h('button', { type: 'button', dataset: { view: 'teams' }, id: 'nav-teams' }, t('nav.teams')),
    admin ? null : h('button', { type: 'button', dataset: { view: 'stats' }, id: 'nav-stats' }, t('nav.stats')),
    admin ? h('button', { type: 'button', dataset: { view: 'audit' }, id: 'nav-audit' }, t('nav.audit')) : null);
  const link = h('span', { class: 'connection offline', id: 'connection', role: 'status' }, t('console.offline'));
  const flashBox = h('div', { class: 'flash', id: 'flash', role: 'status', 'aria-live': 'polite' });
  const shell = {
    nav,
    counters: h('div', { class: 'counters', id: 'counters' }),
    alerts: h('span', { class: 'alerts' }),
    panel: h('aside', { class: 'panel', id: 'panel' }),
    map: h('div', { class: 'map', id: 'map', role: 'region', 'aria-label': t('map.label') }),
    mapTools: h('div', { class: 'map-tools' }),
    detail: h('aside', { class: 'detail', id: 'detail', 'aria-live': 'polite' }),
    wide: h('div', { class: 'wide-area', id: 'wide' }),
    connection: (state) => {
      link.className = `connection ${state}`;
      link.textContent = t(`console.${state}`);
      showStaleness(shell, staleBanner, state);
    },
    flash: (message, kind) => {
      flashBox.className = `flash ${kind}`;
      clearTimeout(flashBox.timer);
      // A failure stays until it is read and dismissed; a success fades.
      if (kind === 'error') {
        fill(flashBox, message, h('button', { type: 'button', class: 'dismiss', 'aria-label': t('console.close'), onclick: () => fill(flashBox) }, '×'));
      } else {
        flashBox.textContent = message;
        flashBox.timer = setTimeout(() => (flashBox.textContent = ''), 6000);
      }
    },
  };
  const staleBanner = h('p', { class: 'stale-banner', id: 'stale-banner', role: 'alert', hidden: true });
  shell.root = h('div', { class: 'console' },
    h('header', { class: 'topbar' },
      h('h1', {}, 'Vedetta'), h('span', { class: 'office' }, settings.office_name),
      // Admins have no live data: no connection to report on.
      shell.counters, nav, admin ? null : link, shell.alerts, languageSwitch(),
      h('span', { class: 'user' }, `${user.name} · ${t(`role.${user.role}`)}`),
      h('button', { type: 'button', id: 'logout', onclick: logOut }, t('console.logout'))),
    staleBanner, shell.panel, h('div', { class: 'map-column' }, shell.mapTools, shell.map), shell.detail, shell.wide, flashBox);
  return shell;
}

/** Without the hub the screen must not look live: the map and queue grey out under a banner
 * saying since when they are stale, and the actions wait (they could not reach it anyway). */
function showStaleness(shell, banner, state) {
  const stale = state !== 'online';
  if (stale && !shell.staleSince) shell.staleSince = new Date();
  if (!stale) shell.staleSince = null;
  shell.root?.classList.toggle('stale', stale);
  shell.detail.inert = stale;
  banner.hidden = !stale;
  banner.textContent = stale ? t('console.stale_since', { at: formatTime(shell.staleSince.toISOString()) }) : '';
}

function counters(element, live) {
  const render = () => {
    const stats = live.stats;
    if (!stats) return;
    const open = (stats.by_status.received ?? 0) + (stats.by_status.acknowledged ?? 0) + (stats.by_status.in_progress ?? 0);
    fill(element,
      h('span', { class: 'counter', id: 'count-new' }, h('strong', {}, stats.by_status.received ?? 0), ` ${t('counters.new')}`),
      h('span', { class: 'counter', id: 'count-open' }, h('strong', {}, open), ` ${t('counters.open')}`),
      h('span', { class: `counter ${stats.overdue ? 'alarm' : ''}`, id: 'count-overdue' }, h('strong', {}, stats.overdue), ` ${t('counters.overdue')}`),
      live.fastReview.length
        ? h('span', { class: 'counter alarm', id: 'count-fast-review', role: 'status' }, h('strong', {}, live.fastReview.length), ` ${tCount('counters.fast_review', live.fastReview.length)}`)
        : null);
  };
  live.addEventListener('stats', render);
  live.addEventListener('fast_review', render);
  render();
}
