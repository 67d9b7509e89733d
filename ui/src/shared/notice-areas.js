// Notice areas on the zone map: polygons and circles coloured by severity, whole zones painted
// on the zone tiles themselves, and one label per notice at the centre of its area.
import L from './leaflet.js';
import { t } from './i18n.js';
import { SEVERITY_COLOURS, escapeHtml, statusMark } from './notice.js';
import { placesByIds } from './places.js';

export class NoticeAreas {
  /** `owner` names this set of areas among the zone map's highlights. */
  constructor(zoneMap, owner) {
    this.zoneMap = zoneMap;
    this.owner = owner;
    this.layer = L.layerGroup().addTo(zoneMap.map);
    this.shown = 0;
    this.extent = L.latLngBounds([]);
    this.painted = new Map();
    // Hidden from the layer switcher, the zones it paints go too.
    this.layer.on('add', () => zoneMap.setHighlights(owner, this.painted));
    this.layer.on('remove', () => zoneMap.setHighlights(owner, new Map()));
  }

  /** Shows these notice summaries' areas instead of the previous ones; resolves once every
   * label is placed (zones need their centres from the hub). */
  async show(notices) {
    const shown = ++this.shown;
    this.layer.clearLayers();
    const painted = new Map();
    const drawn = notices.map((notice) => {
      const style = areaStyle(notice);
      const shapes = shapesOf(notice.area, style);
      shapes.forEach((shape) => shape.addTo(this.layer));
      for (const id of notice.area?.zones ?? []) {
        if (!painted.has(id)) painted.set(id, { colour: style.color, opacity: style.fillOpacity });
      }
      return { notice, shapes };
    });
    this.painted = painted;
    if (this.zoneMap.map.hasLayer(this.layer)) this.zoneMap.setHighlights(this.owner, painted);
    const zoneIds = notices.flatMap((notice) => notice.area?.zones ?? []);
    const places = zoneIds.length ? await placesByIds(zoneIds).catch(() => new Map()) : new Map();
    if (shown !== this.shown) return;
    this.extent = L.latLngBounds([]);
    for (const { notice, shapes } of drawn) {
      const zones = (notice.area?.zones ?? []).map((id) => places.get(id)).filter(Boolean);
      const bounds = L.latLngBounds([]);
      shapes.forEach((shape) => bounds.extend(shapeBounds(shape)));
      zones.forEach((place) => bounds.extend(bboxBounds(place.bbox)));
      if (!bounds.isValid()) continue;
      this.extent.extend(bounds);
      // A zone's own centre lies inside it; the middle of several zones' bounds may not.
      const at = shapes.length || !zones.length ? bounds.getCenter() : L.latLng(zones[0].lat, zones[0].lon);
      // Above its point, not on it: the place marker and the zone's own name stay visible.
      L.tooltip({ permanent: true, direction: 'top', offset: [0, -6], className: `notice-label ${notice.msg_type === 'Cancel' ? 'cancellation' : `sev-${notice.severity}`}` })
        .setLatLng(at)
        .setContent(noticeLabel(notice))
        .addTo(this.layer);
    }
  }

  /** The bounds of everything shown, once `show` has resolved. */
  bounds() {
    return this.extent;
  }

  remove() {
    this.shown += 1;
    this.layer.remove();
  }
}

/** A cancellation's area is grey and dashed: the danger it named no longer holds. */
const CANCELLED_COLOUR = '#455a64';

function areaStyle(notice) {
  const cancelled = notice.msg_type === 'Cancel';
  const colour = cancelled ? CANCELLED_COLOUR : SEVERITY_COLOURS[notice.severity] ?? SEVERITY_COLOURS.Unknown;
  const real = notice.status === 'Actual' && !cancelled;
  return {
    color: colour,
    weight: 3,
    fillColor: colour,
    fillOpacity: real ? 0.25 : 0.1,
    dashArray: real ? null : '10 8',
    // The map underneath stays tappable: the citizen chooses a place inside an area too.
    interactive: false,
  };
}

function shapesOf(area, style) {
  return [
    ...(area?.polygons ?? []).map((ring) => L.polygon(ring.map((p) => [p.lat, p.lon]), style)),
    ...(area?.circles ?? []).map((c) => L.circle([c.lat, c.lon], { ...style, radius: c.radius_km * 1000 })),
  ];
}

/** A circle knows its bounds only once on a map; its radius gives them anyway. */
function shapeBounds(shape) {
  return shape instanceof L.Circle ? shape.getLatLng().toBounds(shape.getRadius() * 2) : shape.getBounds();
}

function bboxBounds([west, south, east, north]) {
  return L.latLngBounds([south, west], [north, east]);
}

function noticeLabel(notice) {
  const mark = statusMark(notice.status);
  const text = notice.headline || notice.event || '';
  const kind = notice.msg_type === 'Cancel' ? t('msg_type.Cancel').toUpperCase() : t(`severity.${notice.severity}`);
  return `${mark ? `[${mark}] ` : ''}${kind}: ${escapeHtml(text)}`;
}
