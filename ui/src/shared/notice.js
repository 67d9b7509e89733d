// What a notice says, for lists, cards and map labels: its text in one language, whether it is
// real, who issued it and the smallest zones it covers. No map code: pages show notices before
// their map has loaded.
import { t } from './i18n.js';

export const SEVERITY_COLOURS = {
  Extreme: '#b71c1c',
  Severe: '#d84315',
  Moderate: '#b8860b',
  Minor: '#1565c0',
  Unknown: '#546e7a',
};

/** Zone names shown on a card before the rest are counted ("+3"). */
const MAX_ZONE_NAMES = 5;

/** "TEST", "ESERCITAZIONE"... for notices that are not real; empty for Actual ones. */
export function statusMark(status) {
  return status === 'Actual' ? '' : t(`status.${status}`).toUpperCase();
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
    office: notice.office,
    sender: notice.sender ?? content.sender,
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

/** Each zone level's rank, coarsest 0, from the zone tiles' levels in config.json. */
export function levelRanks(settings) {
  return new Map((settings.zone_tiles?.levels ?? []).map((entry, rank) => [entry.level, rank]));
}

/** The zones of the finest level present in `zones` (municipalities before their region).
 * A level the config does not rank counts as finer the more of its zones are listed. */
export function finestZones(zones, ranks) {
  if (!zones.length) return [];
  const counts = new Map();
  zones.forEach((zone) => counts.set(zone.level, (counts.get(zone.level) ?? 0) + 1));
  const rank = (level) => (ranks.has(level) ? 1e6 + ranks.get(level) : counts.get(level));
  const finest = [...counts.keys()].reduce((best, level) => (rank(level) > rank(best) ? level : best));
  return zones.filter((zone) => zone.level === finest);
}

/** The names of the zones a notice is for: the whole zones its author chose, else the smallest
 * zones its shapes cover. A small circle names its municipality, never the region around it. */
export function noticeZoneNames(summary, ranks) {
  const chosen = summary.area?.zones ?? [];
  if (chosen.length) {
    const byId = new Map(summary.zones.map((zone) => [zone.id, zone.name]));
    return chosen.map((id) => byId.get(id) ?? id);
  }
  return finestZones(summary.zones, ranks).map((zone) => zone.name);
}

/** "Bologna, Firenze (2 municipalities, 2 provinces, 2 regions)": the smallest zones an area
 * covers by name, then how many of each level, for an approver to check against the map. */
export function coveredSummary(zones, ranks = new Map()) {
  if (!zones.length) return '';
  const counts = new Map();
  zones.forEach((zone) => counts.set(zone.level, (counts.get(zone.level) ?? 0) + 1));
  const finestFirst = [...counts.keys()].sort((a, b) => (ranks.has(a) && ranks.has(b)
    ? ranks.get(b) - ranks.get(a)
    : counts.get(b) - counts.get(a)));
  const perLevel = finestFirst.map((level) => `${counts.get(level)} ${levelName(level, counts.get(level))}`);
  const names = finestZones(zones, ranks).map((zone) => zone.name);
  return `${shortList(names, 12)} (${perLevel.join(', ')})`;
}

/** A level's name in the reader's language when it is a usual one; else as the office named it. */
function levelName(level, count) {
  const key = `level.${level}.${count === 1 ? 'one' : 'many'}`;
  const name = t(key);
  return name === key ? level : name;
}

/** "A, B, C, D, E +3": a few names, and how many more. */
export function shortList(names, max = MAX_ZONE_NAMES) {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} +${names.length - max}` : shown;
}
