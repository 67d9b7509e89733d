// Italian and English: the language follows the browser, can be switched, and is remembered.
import { h } from './dom.js';
import { STRINGS } from './strings.js';

const STORAGE_KEY = 'vedetta.language';
const listeners = new Set();
let current = pick();

function pick() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && STRINGS[saved]) return saved;
  const browser = (navigator.languages ?? [navigator.language]).map((tag) => tag.slice(0, 2));
  return browser.find((code) => STRINGS[code]) ?? 'en';
}

export function language() {
  return current;
}

export function setLanguage(code) {
  if (!STRINGS[code] || code === current) return;
  current = code;
  localStorage.setItem(STORAGE_KEY, code);
  document.documentElement.lang = code;
  listeners.forEach((listener) => listener(code));
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

/** The text for `key` in the current language, with `{name}` placeholders filled. */
/** Adds a page's own words (the console's) to the shared ones, before anything is drawn. */
export function addStrings(extra) {
  for (const [code, strings] of Object.entries(extra)) Object.assign(STRINGS[code], strings);
}

export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

/** `key.one` for a count of one, else `key.many`, with `{count}` filled in. */
export function tCount(key, count, params = {}) {
  return t(`${key}.${count === 1 ? 'one' : 'many'}`, { count, ...params });
}

/** A name given per language by the hub (categories), in the current language. */
export function localized(names, fallback) {
  return names?.[current] ?? names?.en ?? names?.it ?? fallback;
}

export function formatTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString(current === 'it' ? 'it-IT' : 'en-GB', {
    dateStyle: 'short',
    timeStyle: 'short',
  });
}

/** A response target such as `5m`, `2h` or `1d 12h` in words: "5 minuti", "1 day and 12 hours". */
export function formatWithin(spec) {
  const units = { s: 'second', m: 'minute', h: 'hour', d: 'day' };
  const locale = current === 'it' ? 'it-IT' : 'en-GB';
  const parts = [...String(spec ?? '').matchAll(/(\d+)\s*([smhd])/g)].map(([, amount, unit]) =>
    new Intl.NumberFormat(locale, { style: 'unit', unit: units[unit], unitDisplay: 'long' }).format(Number(amount)));
  return parts.length ? new Intl.ListFormat(locale, { type: 'conjunction' }).format(parts) : String(spec ?? '');
}

/** A select that switches the language, labelled in both languages. */
export function languageSwitch() {
  const select = h(
    'select',
    { id: 'language', 'aria-label': 'Lingua / Language', onchange: (e) => setLanguage(e.target.value) },
    h('option', { value: 'it' }, 'Italiano'),
    h('option', { value: 'en' }, 'English'),
  );
  select.value = current;
  onLanguageChange((code) => (select.value = code));
  document.documentElement.lang = current;
  return select;
}
