// The citizens' page: send a geolocated report, follow its status, see the notices in force here.
import '../shared/base.css';
import './citizen.css';
import L from '../shared/leaflet.js';
import { api } from '../shared/api.js';
import { fill, h } from '../shared/dom.js';
import { language, languageSwitch, localized, onLanguageChange, t } from '../shared/i18n.js';
import { noticeShapes, noticeSummary, zoneMap } from '../shared/map.js';
import { LiveSocket } from '../shared/socket.js';
import { NoticeBoard } from './notices.js';
import { MyReports } from './reports.js';
import { readPhoto } from './photo.js';

const PLACE = 'vedetta.place';
const RETRYABLE = ['rate_limited', 'internal'];
const settings = await api('/ui/config.json');
const categories = (await api('/api/v1/categories')).categories;
const mine = new MyReports();
const place = { point: null, marker: null };

const status = h('p', { id: 'send-status', role: 'status', 'aria-live': 'polite' });
const noticeAreas = L.layerGroup();
const zonesById = new Map();
const notices = new NoticeBoard((list) => {
  noticeAreas.clearLayers();
  list.forEach((notice) => noticeShapes(noticeSummary(notice, language()), zonesById).addTo(noticeAreas));
});
const mapElement = h('div', { id: 'map', class: 'map' });
const form = reportForm();

fill(
  document.body,
  h('header', { class: 'topbar' },
    h('h1', {}, 'Vedetta'), h('span', { class: 'office' }, settings.office_name), languageSwitch()),
  h('main', {},
    notices.element,
    h('section', { id: 'report', 'aria-labelledby': 'report-title' },
      h('h2', { id: 'report-title', 'data-t': 'citizen.report_title' }),
      form, status),
    mine.element),
);

const { map, zones } = await zoneMap(mapElement, settings);
zones.forEach((zone) => zonesById.set(zone.id, zone));
noticeAreas.addTo(map);
map.on('click', (event) => choosePlace(event.latlng.lat, event.latlng.lng));

function follow(live) {
  const tokens = mine.tokens();
  if (tokens.length) live.send({ type: 'follow', tokens, cursor: mine.cursor });
}

const socket = new LiveSocket((live) => {
  follow(live);
  // With the cursor the hub sends exactly what changed while away, cancellations included.
  if (place.point) live.send({ type: 'subscribe', point: place.point, cursor: notices.cursor });
  mine.pending().forEach((report) => live.send({ type: 'report', report }));
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
socket.on('following', (frame) => mine.resumeFrom(frame.cursor));
socket.on('notice', (frame) => notices.received(frame.notice, frame.cursor));
socket.on('notice_expired', (frame) => notices.expired(frame.thread_id, frame.cursor));
socket.on('subscribed', (frame) => notices.ready(frame.cursor));

translate();
restorePlace();
onLanguageChange(() => {
  translate();
  notices.render();
  mine.render();
});

function reportForm() {
  return h('form', { id: 'report-form', novalidate: true, onsubmit: send },
    h('fieldset', {},
      h('legend', { 'data-t': 'citizen.where' }),
      h('button', { type: 'button', id: 'locate', onclick: locate, 'data-t': 'citizen.use_location' }),
      h('p', { class: 'hint', 'data-t': 'citizen.or_tap' }),
      mapElement,
      h('button', { type: 'button', id: 'use-centre', onclick: () => choosePlace(map.getCenter().lat, map.getCenter().lng), 'data-t': 'citizen.use_centre' }),
      h('output', { id: 'place', 'aria-live': 'polite' })),
    h('fieldset', { id: 'categories' }, categoryChoices()),
    h('div', { class: 'field' },
      h('label', { for: 'text', 'data-t': 'citizen.what' }),
      h('textarea', { id: 'text', rows: 4, maxlength: settings.max_text_chars, required: true })),
    h('div', { class: 'field' },
      h('label', { for: 'photo', 'data-t': 'citizen.photo' }),
      h('input', { id: 'photo', type: 'file', accept: 'image/jpeg,image/png,image/webp', capture: 'environment' })),
    h('details', {},
      h('summary', { 'data-t': 'citizen.contact' }),
      contactField('name', 'text', 'name'),
      contactField('phone', 'tel', 'tel'),
      contactField('email', 'email', 'email')),
    h('button', { type: 'submit', id: 'send', class: 'primary', 'data-t': 'citizen.send' }));
}

function contactField(name, type, autocomplete) {
  return h('div', { class: 'field' },
    h('label', { for: `contact-${name}`, 'data-t': `citizen.contact_${name}` }),
    h('input', { id: `contact-${name}`, type, autocomplete }));
}

function categoryChoices() {
  return [
    h('legend', {}, t('citizen.category')),
    categories.map((category) =>
      h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'category', value: category.code, required: true }),
        ` ${localized(category.name, category.code)}`)),
  ];
}

function translate() {
  document.title = `Vedetta · ${t('citizen.title')}`;
  for (const element of document.querySelectorAll('[data-t]')) {
    element.textContent = t(element.dataset.t);
  }
  fill(form.querySelector('#categories'), categoryChoices());
  showPlace();
}

function locate() {
  if (!navigator.geolocation) return showError(t('citizen.no_geolocation'));
  status.textContent = t('citizen.locating');
  navigator.geolocation.getCurrentPosition(
    (position) => {
      status.textContent = '';
      choosePlace(position.coords.latitude, position.coords.longitude);
      map.setView([position.coords.latitude, position.coords.longitude], Math.max(map.getZoom(), 14));
    },
    () => showError(t('citizen.location_denied')),
    { enableHighAccuracy: true, timeout: 15000 },
  );
}

/** Back on the page: where the citizen is now if they allowed it, else where they last said. */
async function restorePlace() {
  const permission = await navigator.permissions?.query({ name: 'geolocation' }).catch(() => null);
  if (permission?.state === 'granted') return locate();
  const saved = JSON.parse(localStorage.getItem(PLACE) ?? 'null');
  if (saved) choosePlace(saved.lat, saved.lon);
}

async function choosePlace(lat, lon) {
  place.point = { lat: round(lat), lon: round(lon) };
  localStorage.setItem(PLACE, JSON.stringify(place.point));
  if (place.marker) place.marker.setLatLng([lat, lon]);
  else place.marker = L.circleMarker([lat, lon], { radius: 9, color: '#0d47a1', weight: 3, fillOpacity: 0.6 }).addTo(map);
  place.zone = null;
  showPlace();
  notices.moved();
  socket.send({ type: 'subscribe', point: place.point });
  const found = await api(`/api/v1/zones/lookup?lat=${place.point.lat}&lon=${place.point.lon}`);
  place.zone = found.zones[0]?.name ?? t('citizen.outside_zones');
  showPlace();
}

function showPlace() {
  const output = form.querySelector('#place');
  if (!place.point) return (output.textContent = t('citizen.no_place'));
  const where = `${place.point.lat.toFixed(4)}, ${place.point.lon.toFixed(4)}`;
  output.textContent = place.zone ? `${place.zone} (${where})` : where;
}

async function send(event) {
  event.preventDefault();
  const category = form.querySelector('input[name=category]:checked')?.value;
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
  let report;
  try {
    report = mine.draft({ category, text, ...place.point, contact: contact(), photo });
  } catch {
    return showError(t('citizen.storage_full'));
  }
  form.dataset.sending = report.client_ref;
  form.querySelector('#send').disabled = true;
  status.className = '';
  status.textContent = socket.send({ type: 'report', report }) ? t('citizen.sending') : t('citizen.queued');
}

function contact() {
  const value = (name) => form.querySelector(`#contact-${name}`).value.trim() || undefined;
  const details = { name: value('name'), phone: value('phone'), email: value('email') };
  return Object.values(details).some(Boolean) ? details : undefined;
}

function finishSending(receipt) {
  delete form.dataset.sending;
  form.querySelector('#send').disabled = false;
  form.querySelector('#text').value = '';
  form.querySelector('#photo').value = '';
  status.className = 'ok';
  status.textContent = t('citizen.received', { zone: receipt.zones[0]?.name ?? '' });
}

function showError(message) {
  delete form.dataset.sending;
  form.querySelector('#send').disabled = false;
  status.className = 'error';
  status.textContent = message;
}

function round(value) {
  return Math.round(value * 1e6) / 1e6;
}
