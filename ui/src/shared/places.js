// Places by name and by id (GET /api/v1/places): what the search boxes offer, and the centre,
// bounds and name of zones that notices and filters mention. Every place seen is remembered.
import { api } from './api.js';

/** The hub answers at most this many ids at once. */
const IDS_PER_REQUEST = 100;
const known = new Map();

/** Places whose name matches `query` (accents and case do not matter), best first. */
export async function searchPlaces(query, { limit = 8 } = {}) {
  const { places } = await api(`/api/v1/places?q=${encodeURIComponent(query)}&limit=${limit}`);
  places.forEach(remember);
  return places;
}

/** The places of these zone ids, as a Map by id; ids the hub does not know are left out. */
export async function placesByIds(ids) {
  const missing = [...new Set(ids)].filter((id) => !known.has(id));
  for (let start = 0; start < missing.length; start += IDS_PER_REQUEST) {
    const batch = missing.slice(start, start + IDS_PER_REQUEST);
    const { places } = await api(`/api/v1/places?ids=${batch.map(encodeURIComponent).join(',')}`);
    places.forEach(remember);
  }
  return new Map(ids.filter((id) => known.has(id)).map((id) => [id, known.get(id)]));
}

export function knownPlace(id) {
  return known.get(id);
}

function remember(place) {
  known.set(place.id, place);
}
