// Leaflet with the marker-cluster plugin, which expects a global `L`.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';

window.L = L;
export default L;
