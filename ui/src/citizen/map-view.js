// The citizen page's map, loaded after the form has appeared: the zones, the chosen place and
// the areas of the notices in force there. Tapping it chooses the place.
import L from '../shared/leaflet.js';
import { zoneMap } from '../shared/map.js';
import { NoticeAreas } from '../shared/notice-areas.js';

/** How close the map comes to a place given as a point (a position): street level over a
 * basemap; with the zones alone, close enough to see the neighbouring ones. */
const POINT_ZOOM = { basemap: 14, zones: 12 };

export class CitizenMap {
  constructor(element, settings, { onTap }) {
    element.replaceChildren();
    this.zoneMap = zoneMap(element, settings);
    this.map = this.zoneMap.map;
    this.areas = new NoticeAreas(this.zoneMap, 'notices');
    this.map.on('click', (event) => onTap(event.latlng.lat, event.latlng.lng));
  }

  /** Marks the place; `move` also brings it into view (its bounds, or close around a point). */
  showPlace({ point, bbox }, { move }) {
    const at = [point.lat, point.lon];
    if (this.marker) this.marker.setLatLng(at);
    else this.marker = L.circleMarker(at, { radius: 9, color: '#0d47a1', weight: 3, fillOpacity: 0.3, interactive: false }).addTo(this.map);
    if (!move) return;
    const zoom = this.zoneMap.hasBasemap ? POINT_ZOOM.basemap : POINT_ZOOM.zones;
    if (bbox) this.zoneMap.showBbox(bbox, { maxZoom: zoom });
    else this.map.setView(at, Math.max(this.map.getZoom(), zoom));
  }

  centre() {
    const centre = this.map.getCenter();
    return { lat: centre.lat, lon: centre.lng };
  }

  showNotices(summaries) {
    this.areas.show(summaries);
  }
}
