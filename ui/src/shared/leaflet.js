// Leaflet, which the marker-cluster plugin and protomaps-leaflet expect as a global `L`. Its
// stylesheet is imported by each page's entry, so that a page loading its map late has it early.
import L from 'leaflet';

window.L = L;
export default L;
