// The citizen page's map, loaded after the form has appeared: the zones, the chosen place and
// the areas of the notices in force there. Tapping it chooses the place.
import L from '../shared/leaflet.js';
import { zoneMap } from '../shared/map.js';
import { NoticeAreas } from '../shared/notice-areas.js';

/** How close the map comes to a place given as a point (a position): street level over a
 * basemap; with the zones alone, close enough to see the neighbouring ones. */
const POINT_ZOOM = { basemap: 14, zones: 12 };

export class CitizenMap {
  /** Opens on `place` when there is one already: a reload goes straight back to it. */
  constructor(element, settings, { onTap, place }) {
    element.replaceChildren();
    const start = place?.point ? (opened) => this.bringIntoView(opened, place, { fresh: true }) : null;
    this.zoneMap = zoneMap(element, settings, { start });
    this.map = this.zoneMap.map;
    this.areas = new NoticeAreas(this.zoneMap, 'notices');
    this.map.on('click', (event) => onTap(event.latlng.lat, event.latlng.lng));
  }

  /** Marks the place; `move` also brings it into view (its bounds, or close around a point). */
  showPlace({ point, bbox }, { move }) {
    const at = [point.lat, point.lon];
    if (this.marker) this.marker.setLatLng(at);
    else this.marker = L.circleMarker(at, { radius: 9, color: '#0d47a1', weight: 3, fillOpacity: 0.3, interactive: false }).addTo(this.map);
    if (move) this.bringIntoView(this.zoneMap, { point, bbox });
  }

  /** `fresh`: the map has no view yet, so no zoom of its own to keep. */
  bringIntoView(zoneMap, { point, bbox }, { fresh = false } = {}) {
    const zoom = zoneMap.hasBasemap ? POINT_ZOOM.basemap : POINT_ZOOM.zones;
    if (bbox) zoneMap.showBbox(bbox, { maxZoom: zoom });
    else zoneMap.map.setView([point.lat, point.lon], fresh ? zoom : Math.max(zoneMap.map.getZoom(), zoom));
  }

  centre() {
    const centre = this.map.getCenter();
    return { lat: centre.lat, lon: centre.lng };
  }

  showNotices(summaries) {
    this.areas.show(summaries);
  }
}
