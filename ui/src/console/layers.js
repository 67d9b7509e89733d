// The live map's layers: report markers clustered and coloured by status (with a glyph, never
// colour alone), incidents, notice areas by severity, and field devices.
import L from '../shared/leaflet.js';
import 'leaflet.markercluster';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import 'leaflet.markercluster/dist/MarkerCluster.Default.css';
import { language, t } from '../shared/i18n.js';
import { escapeHtml, noticeSummary } from '../shared/notice.js';
import { NoticeAreas } from '../shared/notice-areas.js';

export const STATUS_GLYPHS = {
  received: '!',
  acknowledged: 'A',
  in_progress: '▶',
  resolved: '✓',
  rejected: '✕',
};

export class MapLayers {
  constructor(zoneMap, live, { onReport, onIncident, categoryName }) {
    this.onIncident = onIncident;
    const map = zoneMap.map;
    this.categoryName = categoryName;
    this.map = map;
    this.live = live;
    this.onReport = onReport;
    this.markers = new Map();
    this.reportLayer = L.markerClusterGroup({ maxClusterRadius: 45, showCoverageOnHover: false, iconCreateFunction: clusterIcon }).addTo(map);
    this.incidentLayer = L.layerGroup().addTo(map);
    this.noticeAreas = new NoticeAreas(zoneMap, 'notices');
    this.deviceLayer = L.layerGroup().addTo(map);
    /** The reports of the incident opened in the incidents view. */
    this.incidentReports = L.layerGroup().addTo(map);
    L.control.layers(null, {
      [t('map.reports')]: this.reportLayer,
      [t('map.incidents')]: this.incidentLayer,
      [t('map.notices')]: this.noticeAreas.layer,
      [t('map.devices')]: this.deviceLayer,
    }, { collapsed: true }).addTo(map);
    live.reports.forEach((report) => this.showReport(report));
    live.addEventListener('report', (event) => this.showReport(event.detail.value));
    live.addEventListener('incident', () => this.drawIncidents());
    live.addEventListener('device', () => this.drawDevices());
    live.addEventListener('notice', () => this.drawNotices());
    live.addEventListener('reload', () => {
      live.reports.forEach((report) => this.showReport(report));
      this.drawIncidents();
      this.drawDevices();
    });
    this.drawIncidents();
    this.drawDevices();
    this.drawNotices();
  }

  showReport(report) {
    const label = `${t(`report.${report.status}`)} · ${this.categoryName(report.category)}`;
    const icon = reportIcon(report, label);
    let marker = this.markers.get(report.id);
    if (marker) {
      marker.setIcon(icon);
      marker.setLatLng([report.location.lat, report.location.lon]);
    } else {
      marker = L.marker([report.location.lat, report.location.lon], { icon, keyboard: true });
      marker.on('click', () => this.onReport(report.id));
      this.markers.set(report.id, marker);
      this.reportLayer.addLayer(marker);
    }
    marker.bindTooltip(`${escapeHtml(label)}${report.overdue ? ` · ${t('queue.overdue')}` : ''}`);
  }

  focus(report) {
    const marker = this.markers.get(report.id);
    if (!marker) return;
    this.reportLayer.zoomToShowLayer(marker, () => marker.openTooltip());
  }

  drawIncidents() {
    this.incidentLayer.clearLayers();
    for (const incident of this.live.incidents.values()) {
      if (incident.status !== 'open' || incident.report_count < 2) continue;
      L.circle([incident.location.lat, incident.location.lon], {
        radius: 300, color: '#6a1b9a', weight: 2, dashArray: '4 4', fillOpacity: 0.05,
      }).bindTooltip(t('map.incident_label', { count: incident.report_count, category: escapeHtml(this.categoryName(incident.category)) }),
        { permanent: true, direction: 'top', className: 'incident-label' })
        .on('click', () => this.onIncident(incident.id))
        .addTo(this.incidentLayer);
    }
  }

  /** Rings round an incident's reports; the map fits them when the incident is just opened. */
  showIncident(reports, fit) {
    this.incidentReports.clearLayers();
    const points = reports.map((report) => [report.location.lat, report.location.lon]);
    points.forEach((point) => L.circleMarker(point, { radius: 16, color: '#6a1b9a', weight: 3, fill: false, interactive: false })
      .addTo(this.incidentReports));
    if (fit && points.length) this.map.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: 15 });
  }

  clearIncident() {
    this.incidentReports.clearLayers();
  }

  drawDevices() {
    this.deviceLayer.clearLayers();
    for (const device of this.live.devices.values()) {
      if (!device.position) continue;
      const label = `${device.device_id} · ${t(`device.${device.state}`)}`;
      L.marker([device.position.lat, device.position.lon], {
        icon: L.divIcon({ className: `device-pin device-${device.state}`, html: `<span>${escapeHtml(label)}</span>`, iconSize: null }),
        title: label,
      }).addTo(this.deviceLayer);
    }
  }

  drawNotices() {
    const inForce = [...this.live.notices.values()].filter((notice) => notice.msg_type !== 'Cancel');
    this.noticeAreas.show(inForce.map((notice) => noticeSummary(notice, language())));
  }
}

/** A div icon that names itself: a keyboard marker is a button, and a button needs a name. */
const NamedIcon = L.DivIcon.extend({
  createIcon(oldIcon) {
    const element = L.DivIcon.prototype.createIcon.call(this, oldIcon);
    element.setAttribute('aria-label', this.options.label);
    return element;
  },
});

function reportIcon(report, label) {
  const overdue = report.overdue ? ' overdue' : '';
  return new NamedIcon({
    className: `report-pin status-${report.status}${overdue}`,
    html: `<span aria-hidden="true">${STATUS_GLYPHS[report.status]}</span>`,
    iconSize: [26, 26],
    label: `${label}${report.overdue ? ` · ${t('queue.overdue')}` : ''}`,
  });
}

/** The plugin's own cluster look, with a name saying how many reports it holds. */
function clusterIcon(cluster) {
  const count = cluster.getChildCount();
  const size = count < 10 ? 'small' : count < 100 ? 'medium' : 'large';
  return new NamedIcon({
    html: `<div><span aria-hidden="true">${count}</span></div>`,
    className: `marker-cluster marker-cluster-${size}`,
    iconSize: L.point(40, 40),
    label: t('map.cluster', { count }),
  });
}
