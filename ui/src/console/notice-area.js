// Drawing a notice's area on the live map: a polygon point by point, a circle (centre and
// radius), or whole zones found by name; corners can be dragged and taken back one by one; the hub says which zones the area covers as it is drawn.
import L from '../shared/leaflet.js';
import { api } from '../shared/api.js';
import { field, fill, h } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { PlaceSearch } from '../shared/place-search.js';
import { placesByIds } from '../shared/places.js';

const AREA_COLOUR = '#0d47a1';
const VERTEX_PANE = 'area-vertices';

export class AreaEditor {
  constructor(zoneMap, area = {}) {
    this.zoneMap = zoneMap;
    this.map = zoneMap.map;
    this.area = {
      polygons: structuredClone(area.polygons ?? []),
      circles: structuredClone(area.circles ?? []),
      zones: [...(area.zones ?? [])],
    };
    this.mode = null;
    this.points = [];
    this.layer = L.layerGroup().addTo(this.map);
    // Corners sit in a pane of their own that still takes the pointer while drawing, so they
    // can be dragged where they belong.
    if (!this.map.getPane(VERTEX_PANE)) this.map.createPane(VERTEX_PANE);
    this.vertices = L.layerGroup().addTo(this.map);
    this.covered = h('p', { id: 'covered-zones', class: 'covered', 'aria-live': 'polite' });
    this.onClick = (event) => this.click(event.latlng);
    this.map.on('click', this.onClick);
    this.element = this.controls();
    this.redraw();
  }

  destroy() {
    this.map.off('click', this.onClick);
    this.layer.remove();
    this.vertices.remove();
    this.zoneMap.setHighlights('area-editor', new Map());
  }

  value() {
    const area = {};
    for (const key of ['polygons', 'circles', 'zones']) if (this.area[key].length) area[key] = this.area[key];
    return area;
  }

  controls() {
    this.radius = h('input', { id: 'circle-radius', type: 'number', min: 0.1, max: 2000, step: 0.1, value: 2 });
    // Thousands of municipalities: they are found by name, and the chosen ones shown as chips.
    this.zoneSearch = new PlaceSearch({
      id: 'area-zone-search', label: t('area.add_zone'), hint: t('place.hint'), keepName: false,
      onPick: (place) => this.addZone(place),
    });
    this.chips = h('ul', { id: 'area-zones', class: 'zone-chips', 'aria-label': t('area.zones') });
    this.zonePicker = h('fieldset', { class: 'zone-picker' },
      h('legend', {}, t('area.zones')), this.zoneSearch.element, this.chips);
    this.showChips();
    this.hint = h('p', { class: 'hint', 'aria-live': 'polite' });
    return h('div', { class: 'area-editor' },
      h('div', { class: 'button-row' },
        h('button', { type: 'button', id: 'draw-polygon', onclick: () => this.start('polygon') }, t('area.draw_polygon')),
        h('button', { type: 'button', id: 'undo-point', onclick: () => this.undoPoint() }, t('area.undo_point')),
        h('button', { type: 'button', id: 'finish-polygon', onclick: () => this.finishPolygon() }, t('area.finish_polygon')),
        h('button', { type: 'button', id: 'draw-circle', onclick: () => this.start('circle') }, t('area.draw_circle')),
        h('button', { type: 'button', id: 'circle-at-centre', onclick: () => this.circleAtCentre() }, t('area.circle_at_centre')),
        h('button', { type: 'button', id: 'clear-area', onclick: () => this.clear() }, t('area.clear'))),
      field(t('area.radius_km'), this.radius),
      this.hint,
      this.zonePicker,
      h('h4', {}, t('area.covered')),
      this.covered);
  }

  start(mode) {
    this.mode = mode;
    this.points = [];
    this.hint.textContent = t(`area.hint_${mode}`);
    this.map.getContainer().classList.add('drawing');
    this.redraw();
  }

  click(latlng) {
    const point = { lat: round(latlng.lat), lon: round(latlng.lng) };
    if (this.mode === 'polygon') {
      this.points.push(point);
      this.showProgress();
      this.redraw();
    } else if (this.mode === 'circle') {
      this.area.circles.push({ ...point, radius_km: Number(this.radius.value) || 1 });
      this.stop();
    }
  }

  /** Without a pointer: a circle of the radius given around the middle of the map. */
  circleAtCentre() {
    const centre = this.map.getCenter();
    this.mode = 'circle';
    this.click(centre);
  }

  /** Takes back the last corner: a click that landed wrong costs one press, not the polygon. */
  undoPoint() {
    if (this.mode !== 'polygon' || !this.points.length) return;
    this.points.pop();
    this.showProgress();
    this.redraw();
  }

  /** How many corners so far, and whether the outline crosses itself (which no area may). */
  showProgress() {
    const crossing = crossesItself(this.points);
    this.hint.className = crossing ? 'hint error' : 'hint';
    this.hint.textContent = `${t('area.corners', { count: this.points.length })}${crossing ? ` ${t('area.crossing')}` : ''}`;
  }

  finishPolygon() {
    if (this.mode !== 'polygon' || this.points.length < 3) {
      this.hint.textContent = t('area.need_three_points');
      return;
    }
    if (crossesItself([...this.points, this.points[0]])) {
      this.hint.className = 'hint error';
      this.hint.textContent = t('area.crossing');
      return;
    }
    this.area.polygons.push([...this.points, this.points[0]]);
    this.stop();
  }

  stop() {
    this.mode = null;
    this.points = [];
    this.hint.textContent = '';
    this.map.getContainer().classList.remove('drawing');
    this.changed();
  }

  addZone(place) {
    if (!this.area.zones.includes(place.id)) this.area.zones.push(place.id);
    this.zoneMap.showBbox(place.bbox);
    this.showChips();
    this.changed();
  }

  removeZone(id) {
    this.area.zones = this.area.zones.filter((z) => z !== id);
    this.showChips();
    // The chip's button is gone: the focus goes back where zones are added.
    this.zoneSearch.input.focus();
    this.changed();
  }

  /** The chosen zones by name (a draft opened again knows only their ids). */
  async showChips() {
    const ids = [...this.area.zones];
    const places = await placesByIds(ids).catch(() => new Map());
    if (ids.join() !== this.area.zones.join()) return;
    fill(this.chips, ids.length ? ids.map((id) => {
      const name = places.get(id)?.name ?? id;
      return h('li', { class: 'zone-chip', dataset: { zoneId: id } }, name,
        h('button', { type: 'button', 'aria-label': t('area.remove_zone', { name }), onclick: () => this.removeZone(id) }, '✕'));
    }) : h('li', { class: 'hint' }, t('area.no_zones')));
  }

  clear() {
    this.area = { polygons: [], circles: [], zones: [] };
    this.showChips();
    this.stop();
  }

  async changed() {
    this.redraw();
    const area = this.value();
    if (!Object.keys(area).length) return fill(this.covered, t('area.none'));
    try {
      const { zones } = await api('/api/v1/notices/area-preview', { method: 'POST', body: area });
      fill(this.covered, zones.length ? zones.map((z) => z.name).join(', ') : t('area.no_zone_covered'));
    } catch (err) {
      fill(this.covered, h('span', { class: 'error' }, err.message));
    }
  }

  redraw() {
    this.layer.clearLayers();
    this.vertices.clearLayers();
    const style = { color: AREA_COLOUR, weight: 3, fillOpacity: 0.15, interactive: false };
    this.area.polygons.forEach((ring) => L.polygon(ring.map((p) => [p.lat, p.lon]), style).addTo(this.layer));
    this.area.circles.forEach((c) => L.circle([c.lat, c.lon], { ...style, radius: c.radius_km * 1000 }).addTo(this.layer));
    this.zoneMap.setHighlights('area-editor',
      new Map(this.area.zones.map((id) => [id, { colour: AREA_COLOUR, opacity: style.fillOpacity }])));
    if (this.points.length) {
      const outline = L.polyline(this.points.map((p) => [p.lat, p.lon]), { ...style, dashArray: '6 6' }).addTo(this.layer);
      this.points.forEach((p, index) => this.vertex(p, index, outline).addTo(this.vertices));
    }
  }

  /** A corner of the outline being drawn, which can be dragged; the outline follows it. */
  vertex(point, index, outline) {
    const label = t('area.corner', { number: index + 1 });
    const marker = L.marker([point.lat, point.lon], {
      pane: VERTEX_PANE, draggable: true, keyboard: false, title: label, alt: label,
      icon: L.divIcon({ className: 'area-vertex', iconSize: [14, 14] }),
    });
    marker.on('drag', () => {
      const at = marker.getLatLng();
      this.points[index] = { lat: round(at.lat), lon: round(at.lng) };
      outline.setLatLngs(this.points.map((p) => [p.lat, p.lon]));
    });
    marker.on('dragend', () => {
      this.showProgress();
      this.redraw();
    });
    return marker;
  }
}

/** Whether any two edges of the path (not neighbours) cross. */
function crossesItself(points) {
  const edges = points.slice(1).map((end, i) => [points[i], end]);
  return edges.some((a, i) => edges.slice(i + 2).some((b, j) => {
    const closing = i === 0 && i + 2 + j === edges.length - 1 && same(points[0], points[points.length - 1]);
    return !closing && segmentsCross(a, b);
  }));
}

function same(p, q) {
  return p.lat === q.lat && p.lon === q.lon;
}

function segmentsCross([p1, p2], [q1, q2]) {
  const side = (a, b, c) => Math.sign((b.lon - a.lon) * (c.lat - a.lat) - (b.lat - a.lat) * (c.lon - a.lon));
  return side(p1, p2, q1) * side(p1, p2, q2) < 0 && side(q1, q2, p1) * side(q1, q2, p2) < 0;
}

function round(value) {
  return Math.round(value * 1e5) / 1e5;
}
