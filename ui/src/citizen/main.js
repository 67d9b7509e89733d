// The citizens' page: the notices in force where they are, and a geolocated report with its
// status. The form and the notices come first; the map loads behind them and is never needed.
import 'leaflet/dist/leaflet.css';
import '../shared/base.css';
import './citizen.css';
import { api } from '../shared/api.js';
import { fill, h } from '../shared/dom.js';
import { languageSwitch, onLanguageChange, t } from '../shared/i18n.js';
import { finestZones, levelRanks } from '../shared/notice.js';
import { PlaceSearch } from '../shared/place-search.js';
import { LiveSocket } from '../shared/socket.js';
import { emergencyNumber, lifeSafety, reportForm, safetyNote } from './form.js';
import { AlertSignup } from './alerts.js';
import { NoticeBoard } from './notices.js';
import { readPhoto } from './photo.js';
import { MyReports } from './reports.js';

const PLACE = 'vedetta.place';
const RETRYABLE = ['rate_limited', 'internal'];
const [settings, { categories }] = await Promise.all([api('/ui/config.json'), api('/api/v1/categories')]);
const ranks = levelRanks(settings);
const mine = new MyReports(categories, settings);
/** Where the citizen is: a point, with the name of its zone once known, and the zone and its
 * bounds when the place was chosen by name. */
const place = { point: null, name: null, bbox: null, zone: null };
/** The map, once its code has arrived; everything works without it meanwhile. */
let mapView = null;

const status = h('p', { id: 'send-status', role: 'status', 'aria-live': 'polite' });
const notices = new NoticeBoard(settings, ranks, (summaries) => mapView?.showNotices(summaries));
const alerts = new AlertSignup();
const mapElement = h('div', { id: 'map', class: 'map', role: 'region', 'aria-labelledby': 'map-name' },
  h('p', { id: 'map-name', class: 'map-loading', 'data-t': 'citizen.map_loading' }));
const search = new PlaceSearch({
  id: 'place-search', label: t('citizen.search_place'), hint: t('place.hint'),
  onPick: (found) => choosePlace(found.lat, found.lon, { name: found.name, bbox: found.bbox, zone: found.id, move: true }),
});
const report = reportForm({
  settings, categories, search, mapElement,
  onLocate: locate,
  onUseCentre: () => (mapView ? chooseCentre() : tell(t('citizen.map_loading'))),
  onSubmit: send,
});
const { form } = report;
const emergency = h('a', { id: 'emergency', href: `tel:${emergencyNumber(settings)}` });

fill(
  document.body,
  h('header', { class: 'topbar' },
    h('h1', {}, 'Vedetta'), h('span', { class: 'office' }, settings.office_name), languageSwitch()),
  h('p', { class: 'emergency' }, emergency),
  h('main', {},
    notices.element,
    h('section', { id: 'report', 'aria-labelledby': 'report-title' },
      h('h2', { id: 'report-title', 'data-t': 'citizen.report_title' }),
      form, status),
    mine.element,
    alerts.element),
);

function follow(live) {
  const tokens = mine.tokens();
  if (tokens.length) live.send({ type: 'follow', tokens, cursor: mine.cursor });
}

const socket = new LiveSocket((live) => {
  follow(live);
  // With the cursor the hub sends exactly what changed while away, cancellations included.
  if (place.point) live.send({ ...subscription(), cursor: notices.cursor });
  mine.pending().forEach((pending) => live.send({ type: 'report', report: pending }));
});
socket.on('ack', (frame) => {
  mine.acknowledged(frame.client_ref, frame.report);
  if (frame.client_ref === form.dataset.sending) finishSending(frame.report);
});
socket.on('error', (frame) => {
  // A report the hub no longer knows (a reset database): follow the others.
  if (frame.error === 'unauthorized' && mine.forgetToken(frame.field)) return follow(socket);
  if (!frame.client_ref) return;
  // A refusal of the content is final; a busy or failing hub is asked again on reconnect.
  if (!RETRYABLE.includes(frame.error)) mine.refused(frame.client_ref);
  if (frame.client_ref === form.dataset.sending) showError(frame.message);
});
socket.on('report_update', (frame) => mine.updated(frame));
socket.on('following', (frame) => mine.followingFrom(frame.cursor));
socket.on('notice', (frame) => notices.received(frame.notice, frame.cursor));
socket.on('notice_expired', (frame) => notices.expired(frame.thread_id, frame.cursor));
socket.on('subscribed', (frame) => notices.ready(frame.cursor));

translate();
restorePlace();
// Installable and usable offline; the worker's downloads start once the page and its map are
// here, so on a slow link they never compete with what the citizen is waiting for.
loadMap().finally(() => navigator.serviceWorker?.register('/sw.js').catch(() => {}));
onLanguageChange(() => {
  translate();
  notices.render();
  alerts.render();
  mine.render();
});

/** The map's code is a chunk of its own, fetched once the page works. */
async function loadMap() {
  try {
    const { CitizenMap } = await import('./map-view.js');
    mapView = new CitizenMap(mapElement, settings, { onTap: (lat, lon) => choosePlace(lat, lon), place });
  } catch {
    // Without the map the page still works: location, search and notices need none of it.
    return;
  }
  mapView.map.getContainer().setAttribute('aria-label', t('map.label'));
  mapView.map.getContainer().removeAttribute('aria-labelledby');
  if (place.point) mapView.showPlace(place, { move: true });
  mapView.showNotices(notices.inForce());
}

function translate() {
  document.title = `Vedetta · ${t('citizen.title')}`;
  for (const element of document.querySelectorAll('[data-t]')) {
    element.textContent = t(element.dataset.t);
  }
  emergency.textContent = t('citizen.emergency', { number: emergencyNumber(settings) });
  search.relabel(t('citizen.search_place'), t('place.hint'));
  mapView?.map.getContainer().setAttribute('aria-label', t('map.label'));
  report.translate();
  showPlace();
}

function locate() {
  if (!navigator.geolocation) return tell(t('citizen.no_geolocation'), 'error');
  tell(t('citizen.locating'));
  navigator.geolocation.getCurrentPosition(
    (position) => {
      status.textContent = '';
      choosePlace(position.coords.latitude, position.coords.longitude, { move: true });
    },
    () => tell(t('citizen.location_denied'), 'error'),
    { enableHighAccuracy: true, timeout: 15000 },
  );
}

/** Back on the page: where the citizen is now if they allowed it, else where they last said. */
async function restorePlace() {
  const permission = await navigator.permissions?.query({ name: 'geolocation' }).catch(() => null);
  if (permission?.state === 'granted') return locate();
  const saved = JSON.parse(localStorage.getItem(PLACE) ?? 'null');
  if (saved) choosePlace(saved.lat, saved.lon, { name: saved.name, bbox: saved.bbox, zone: saved.zone, move: true });
}

function chooseCentre() {
  const centre = mapView.centre();
  choosePlace(centre.lat, centre.lon);
}

/** A new place: remembered, shown, and the notices in force there asked for. */
function choosePlace(lat, lon, { name = null, bbox = null, zone = null, move = false } = {}) {
  const point = { lat: round(lat), lon: round(lon) };
  Object.assign(place, { point, name, bbox, zone });
  remember();
  mapView?.showPlace(place, { move });
  showPlace();
  notices.moved(point);
  alerts.placed(place);
  socket.send(subscription());
  if (!name) nameThePlace(point);
}

/** A comune named by the citizen is where they are: every notice touching any part of it
 * concerns them, not only those over its centre. */
function subscription() {
  return place.zone ? { type: 'subscribe', zones: [place.zone] } : { type: 'subscribe', point: place.point };
}

async function nameThePlace(point) {
  const found = await api(`/api/v1/zones/lookup?lat=${point.lat}&lon=${point.lon}`).catch(() => null);
  // Another place may have been chosen meanwhile.
  if (!found || place.point !== point) return;
  place.name = finestZones(found.zones, ranks)[0]?.name ?? t('citizen.outside_zones');
  alerts.placed(place);
  remember();
  showPlace();
}

function remember() {
  localStorage.setItem(PLACE, JSON.stringify({ ...place.point, name: place.name, bbox: place.bbox, zone: place.zone }));
}

function showPlace() {
  const output = form.querySelector('#place');
  if (!place.point) return (output.textContent = t('citizen.no_place'));
  const where = `${place.point.lat.toFixed(4)}, ${place.point.lon.toFixed(4)}`;
  output.textContent = place.name ? `${place.name} (${where})` : where;
}

async function send(event) {
  event.preventDefault();
  const category = report.category();
  const text = form.querySelector('#text').value.trim();
  if (!place.point) return showError(t('citizen.need_place'));
  if (!category) return showError(t('citizen.need_category'));
  if (!text) return showError(t('citizen.need_text'));
  let photo;
  try {
    photo = await readPhoto(form.querySelector('#photo').files[0], settings.max_photo_bytes);
  } catch (err) {
    return showError(t(err.message));
  }
  let draft;
  try {
    draft = mine.draft({ category, text, ...place.point, contact: report.contact(), photo });
  } catch {
    return showError(t('citizen.storage_full'));
  }
  form.dataset.sending = draft.client_ref;
  form.querySelector('#send').disabled = true;
  status.className = '';
  status.textContent = socket.send({ type: 'report', report: draft }) ? t('citizen.sending') : t('citizen.queued');
}

function finishSending(receipt) {
  const category = mine.find(receipt.client_ref)?.report.category;
  delete form.dataset.sending;
  form.querySelector('#send').disabled = false;
  form.querySelector('#text').value = '';
  form.querySelector('#photo').value = '';
  status.className = 'ok';
  const zone = finestZones(receipt.zones, ranks)[0]?.name;
  const received = t('citizen.received', { zone: zone ? `${zone}.` : '' });
  const safety = lifeSafety(categories, category);
  status.textContent = safety ? `${received} ${safetyNote(safety, settings)}` : received;
}

function showError(message) {
  delete form.dataset.sending;
  form.querySelector('#send').disabled = false;
  tell(message, 'error');
}

/** A line under the form, read out by screen readers. */
function tell(message, kind = '') {
  status.className = kind;
  status.textContent = message;
}

function round(value) {
  return Math.round(value * 1e6) / 1e6;
}
