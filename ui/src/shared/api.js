// JSON over HTTP to the hub's own origin, with the hub's error body turned into an Error whose
// message is in the reader's language.
import { language, t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(readable(body?.error, body?.message ?? `HTTP ${status}`, body?.field));
    this.status = status;
    this.code = body?.error ?? 'http_error';
    this.field = body?.field;
  }
}

/** The hub writes its messages in English, precise for every case; other languages get the
 * code's own sentence, with the field it names. */
function readable(code, message, field) {
  if (language() === 'en' || !code) return message;
  const key = `error.${code}`;
  const translated = t(key);
  if (translated === key) return message;
  return field ? `${translated} (${field})` : translated;
}

let token = null;
let onUnauthorized = () => {};

export function setToken(value) {
  token = value;
}

export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    // The browser's own words ("Failed to fetch") tell an operator nothing.
    throw new ApiError(0, { error: 'unreachable', message: t('error.unreachable') });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: 'bad_answer', message: t('error.bad_answer') };
  }
  if (!response.ok) {
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(response.status, data);
  }
  return data;
}

/** A protected image (report photos) as an object URL. */
export async function imageUrl(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, null);
  return URL.createObjectURL(await response.blob());
}

/** Saves what `path` answers as a file named `name`, sending the login like every request. */
export async function download(path, name) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  let response;
  try {
    response = await fetch(path, { headers });
  } catch {
    throw new ApiError(0, { error: 'unreachable', message: t('error.unreachable') });
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10e3);
}
