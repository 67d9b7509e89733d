// The map both pages share: the office's zones as vector tiles drawn on canvas (outlines, a
// light fill, names placed without overlap, and no Tab stops), the basemap under them, and
// zones highlighted for the notices that name them.
import L from './leaflet.js';
import { CenteredTextSymbolizer, LineSymbolizer, PolygonSymbolizer, leafletLayer } from 'protomaps-leaflet';
import { language } from './i18n.js';
import { escapeHtml } from './notice.js';

/** Where the map opens when the hub does not say where its zones are. */
const ITALY = { centre: [42.5, 12.5], zoom: 6 };
/** Stacking of the tile layers: zones over the basemap. */
const BASEMAP_Z = 1;
const ZONES_Z = 2;
/** The basemap names villages and hamlets from this zoom on. */
const BASEMAP_PLACES_FROM_ZOOM = 13;

/** `start(zoneMap)`, if given, sets the first view instead of the whole territory, so no tile
 * of a view nobody asked for is fetched. */
export function zoneMap(element, settings, { start } = {}) {
  return new ZoneMap(element, settings, { start });
}

export class ZoneMap {
  constructor(element, settings, { start } = {}) {
    // No fades: a replaced label must not linger beside its successor on a live map.
    this.map = L.map(element, { minZoom: 4, maxZoom: 18, zoomSnap: 1, fadeAnimation: false });
    this.map.attributionControl.setPrefix('Vedetta · Leaflet');
    this.bounds = toLatLngBounds(settings.zone_tiles?.bounds);
    /** Highlighted zones by owner (notices in force, a preview, the area being drawn). */
    this.highlights = new Map();
    this.highlighted = new Map();
    /** Whether streets and places are drawn under the zones, or the zones alone. */
    this.hasBasemap = addBasemap(this.map, settings);
    this.zoneLayer = settings.zone_tiles
      ? zoneLayer(settings.zone_tiles, (id) => this.highlighted.get(id)).addTo(this.map)
      : null;
    reportProgress(element, this.map, this.zoneLayer);
    if (start) start(this);
    else this.home();
  }

  /** Back to the whole territory. */
  home() {
    if (this.bounds) this.map.fitBounds(this.bounds, { padding: [8, 8] });
    else this.map.setView(ITALY.centre, ITALY.zoom);
  }

  /** Shows a place's bounding box `[west, south, east, north]`. */
  showBbox(bbox, { maxZoom = 14 } = {}) {
    const bounds = toLatLngBounds(bbox);
    if (bounds) this.map.fitBounds(bounds, { maxZoom, padding: [12, 12] });
  }

  /** Paints zones `ids → {colour, opacity}` for `owner`, replacing what it painted before. */
  setHighlights(owner, zones) {
    if (zones.size) this.highlights.set(owner, zones);
    else this.highlights.delete(owner);
    this.highlighted = new Map();
    for (const painted of this.highlights.values()) {
      painted.forEach((style, id) => this.highlighted.has(id) || this.highlighted.set(id, style));
    }
    // The tiles are cached: repainting them costs no request.
    this.zoneLayer?.rerenderTiles();
  }
}

/** Zone outlines and names from the hub's tiles. Each zoom has one fitting level, drawn thin
 * with a light fill and named; the coarser levels in the tile are thicker outlines only. */
function zoneLayer(tiles, highlightOf) {
  const fits = (z, feature) => feature.props.fits === true || feature.props.fits === 'true';
  const coarser = (z, feature) => !fits(z, feature);
  const highlighted = (z, feature) => highlightOf(feature.props.id) !== undefined;
  const paintRules = [
    { dataLayer: 'zones', filter: fits, symbolizer: new PolygonSymbolizer({ fill: '#eceff1', opacity: 0.35 }) },
    {
      dataLayer: 'zones', filter: highlighted,
      symbolizer: new PolygonSymbolizer({
        perFeature: true,
        fill: (z, feature) => highlightOf(feature.props.id).colour,
        opacity: (z, feature) => highlightOf(feature.props.id).opacity,
      }),
    },
    { dataLayer: 'zones', filter: fits, symbolizer: new LineSymbolizer({ color: '#37474f', width: 1, opacity: 0.8 }) },
    { dataLayer: 'zones', filter: coarser, symbolizer: new LineSymbolizer({ color: '#263238', width: 2.5, opacity: 0.9 }) },
    {
      dataLayer: 'zones', filter: highlighted,
      symbolizer: new LineSymbolizer({ perFeature: true, width: 3, color: (z, feature) => highlightOf(feature.props.id).colour }),
    },
  ];
  const labelRules = [{
    dataLayer: 'zone_labels',
    symbolizer: new CenteredTextSymbolizer({
      labelProps: ['name'],
      font: (z, feature) => `600 ${labelSize(z, feature?.props.level)}px system-ui, sans-serif`,
      fill: '#1b262c',
      stroke: '#ffffff',
      width: 2.5,
    }),
  }];
  return leafletLayer({
    url: tiles.url,
    // One data tile per displayed tile, so each zoom draws the level the hub fitted to it.
    levelDiff: 0,
    maxDataZoom: tiles.max_zoom,
    minZoom: tiles.min_zoom ?? 0,
    bounds: toLatLngBounds(tiles.bounds) ?? undefined,
    paintRules,
    labelRules,
    attribution: '',
    zIndex: ZONES_Z,
  });
}

/** Larger zones get larger names, but a whole country's regions must fit side by side. */
function labelSize(zoom, level) {
  const size = { region: 14, province: 13, district: 13 }[level] ?? 12;
  return zoom <= 5 ? size - 2 : size;
}

/** The map says on its element which zoom it shows and whether its zone tiles are all drawn
 * (`data-zoom`, `data-zone-tiles`): what the browser tests wait for instead of sleeping. */
function reportProgress(element, map, zoneLayer) {
  const zoomed = () => (element.dataset.zoom = String(map.getZoom()));
  map.on('zoomend', zoomed);
  map.whenReady(zoomed);
  zoneLayer?.on('loading', () => (element.dataset.zoneTiles = 'loading'));
  zoneLayer?.on('load', () => (element.dataset.zoneTiles = 'loaded'));
}

/** A raster tile server when configured (`tile_url`), else the hub's own vector basemap;
 * false when there is neither. */
function addBasemap(map, settings) {
  if (settings.tile_url) {
    L.tileLayer(settings.tile_url, { attribution: plainText(settings.tile_attribution), maxZoom: 19, zIndex: BASEMAP_Z }).addTo(map);
    return true;
  }
  const basemap = settings.basemap;
  if (!basemap) return false;
  // protomaps-leaflet reads a .pmtiles archive by range requests, anything else as {z}/{x}/{y}.
  const layer = leafletLayer({
    url: basemap.url,
    flavor: 'light',
    lang: language(),
    maxDataZoom: basemap.max_zoom,
    attribution: plainText(basemap.attribution),
    zIndex: BASEMAP_Z,
    className: 'basemap-layer',
  });
  // The zone layer names regions, provinces and municipalities; the basemap's own place names
  // would sit on top of them, so it names places only once the view is inside a municipality.
  layer.labelRules = layer.labelRules.map((rule) => (rule.dataLayer === 'places'
    ? { ...rule, minzoom: Math.max(rule.minzoom ?? 0, BASEMAP_PLACES_FROM_ZOOM) }
    : rule));
  layer.clearLayout();
  layer.addTo(map);
  return true;
}

/** Attributions as text: a link in them would be one more Tab stop on the map. */
function plainText(html) {
  if (!html) return '';
  return escapeHtml(new DOMParser().parseFromString(html, 'text/html').body.textContent);
}

function toLatLngBounds(bbox) {
  if (!Array.isArray(bbox) || bbox.length !== 4) return null;
  const [west, south, east, north] = bbox;
  return L.latLngBounds([south, west], [north, east]);
}
