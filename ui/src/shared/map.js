// The map both pages share: zone boundaries as the base layer (no tile server needed), an
// optional basemap from config, and notice areas drawn by severity with text labels.
import L from './leaflet.js';
import { api } from './api.js';
import { t } from './i18n.js';

/** Zone sets up to this size show every name on the map. */
const MAX_NAMED_ZONES = 150;

export const SEVERITY_COLOURS = {
  Extreme: '#b71c1c',
  Severe: '#d84315',
  Moderate: '#b8860b',
  Minor: '#1565c0',
  Unknown: '#546e7a',
};

/** A map in `element` showing the office's zones; resolves once they are drawn. */
export async function zoneMap(element, settings, { onZoneClick } = {}) {
  // Without a tile layer nothing else tells Leaflet (and the clusters) how far one may zoom.
  // No fades: a replaced label must not linger beside its successor on a live map.
  const map = L.map(element, { zoomSnap: 0.5, minZoom: 5, maxZoom: 18, fadeAnimation: false });
  if (settings.tile_url) {
    L.tileLayer(settings.tile_url, { attribution: settings.tile_attribution ?? '', maxZoom: 19 }).addTo(map);
  }
  map.attributionControl.setPrefix('Vedetta · Leaflet');
  const zones = await api('/api/v1/zones?simplify=30');
  const parents = new Set(zones.features.map((zone) => zone.properties.parent_id).filter(Boolean));
  const smallest = zones.features.find((zone) => !parents.has(zone.id))?.properties.level;
  const layer = L.geoJSON(zones, {
    style: (zone) => zoneStyle(zone.properties.level === smallest),
    onEachFeature: (zone, shape) => {
      // With no basemap the zone names are what people find their way by; a full national
      // set would bury the map in labels, so large sets name zones on hover only.
      if (zone.properties.level === smallest) {
        const permanent = zones.features.length <= MAX_NAMED_ZONES;
        shape.bindTooltip(escapeHtml(zone.properties.name), {
          permanent, sticky: !permanent, direction: 'center', className: 'zone-name',
        });
      }
      if (onZoneClick) shape.on('click', (event) => onZoneClick(zone, event));
    },
  }).addTo(map);
  if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [12, 12] });
  else map.setView([42.5, 12.5], 6);
  return { map, zones: zones.features, zoneLayer: layer, smallestLevel: smallest };
}

function zoneStyle(smallest) {
  return smallest
    ? { color: '#37474f', weight: 1, opacity: 0.7, fillColor: '#eceff1', fillOpacity: 0.35 }
    : { color: '#263238', weight: 2.5, opacity: 0.9, fill: false, interactive: false };
}

/** "TEST", "ESERCITAZIONE"... for notices that are not real; empty for Actual ones. */
export function statusMark(status) {
  return status === 'Actual' ? '' : t(`status.${status}`).toUpperCase();
}

/** The shapes of a notice's area (polygons, circles, covered zones), coloured and labelled. */
export function noticeShapes(notice, zonesById) {
  const colour = SEVERITY_COLOURS[notice.severity] ?? SEVERITY_COLOURS.Unknown;
  const real = notice.status === 'Actual';
  const style = {
    color: colour,
    weight: 3,
    fillColor: colour,
    fillOpacity: real ? 0.25 : 0.1,
    dashArray: real ? null : '10 8',
  };
  const shapes = [];
  for (const ring of notice.area?.polygons ?? []) {
    shapes.push(L.polygon(ring.map((p) => [p.lat, p.lon]), style));
  }
  for (const circle of notice.area?.circles ?? []) {
    shapes.push(L.circle([circle.lat, circle.lon], { ...style, radius: circle.radius_km * 1000 }));
  }
  for (const id of notice.area?.zones ?? []) {
    const zone = zonesById.get(id);
    if (zone) shapes.push(L.geoJSON(zone, { style }));
  }
  const group = L.featureGroup(shapes);
  if (!shapes.length) return group;
  // One label for the whole area: a tooltip bound to the group would repeat on every shape.
  // Circles know their bounds only once on a map, so their centres stand in for them.
  const bounds = L.latLngBounds([]);
  shapes.forEach((shape) => bounds.extend(shape instanceof L.Circle ? shape.getLatLng() : shape.getBounds()));
  const label = L.tooltip({ permanent: true, direction: 'center', className: `notice-label sev-${notice.severity}` })
    .setLatLng(bounds.getCenter())
    .setContent(noticeLabel(notice));
  return group.addLayer(label);
}

function noticeLabel(notice) {
  const mark = statusMark(notice.status);
  const text = notice.headline || notice.event || '';
  return `${mark ? `[${mark}] ` : ''}${t(`severity.${notice.severity}`)}: ${escapeHtml(text)}`;
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What the map and lists need of a notice, from an API notice or a signed notice frame. */
export function noticeSummary(notice, lang) {
  const content = notice.content ?? notice;
  const info = content.info?.[lang] ?? Object.values(content.info ?? {})[0] ?? {};
  return {
    id: notice.id,
    thread_id: notice.thread_id,
    status: content.status,
    msg_type: notice.msg_type,
    severity: content.severity,
    urgency: content.urgency,
    certainty: content.certainty,
    expires: content.expires,
    event: info.event,
    headline: info.headline,
    description: info.description,
    instruction: info.instruction,
    web: content.web,
    contact: content.contact,
    area: content.area,
    zones: notice.zones ?? notice.covered_zones ?? [],
    sent: notice.sent,
  };
}
