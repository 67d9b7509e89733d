// Page-load benchmark: both pages with Italy's zones on a slow phone link, against the GeoJSON UI. Run: node ui/bench/page-load.mjs
// Time, bytes, requests and JS heap until the citizens' page shows the notices in force in Bologna and the console has
// drawn its national map, cold and warm, for today's pages and those of eb9403c in the same run. Needs the release build
// (`cargo build --release --locked`); ui/bench/README.md says what it counts.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const REPO = path.resolve(fileURLToPath(import.meta.url), '../../..');
const VEDETTA = process.env.VEDETTA_BIN ?? path.join(REPO, 'target/release/vedetta');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ITALY = process.env.VEDETTA_ITALY_DATA ?? path.resolve(REPO, '../shared/data/italy');
/** Every request with its status, size and time, after the table. */
const VERBOSE = Boolean(process.env.BENCH_VERBOSE);
/** The last commit whose pages downloaded every zone as GeoJSON before showing anything. */
const GEOJSON_UI_COMMIT = 'eb9403c';

/** A slow phone link, in CDP's units (bytes per second, milliseconds). */
const SLOW_PHONE = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };
const BOLOGNA = { latitude: 44.4949, longitude: 11.3426 };
const TARGETS = { citizen: { ms: 2000, bytes: 300e3 }, console: { ms: 3000, bytes: 1.5e6 }, ratio: 10 };
/** No request in flight for this long: the network is idle. */
const QUIET_MS = 500;
/** The GeoJSON path moves megabytes at 200 KB/s: every wait ends here at the latest. */
const LOAD_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 180_000);
const PASSWORD = 'page-load bench passphrase';
const ACCOUNTS = [['olga', 'operator'], ['aldo', 'approver']];
const ZONE_LEVELS = [
  { file: 'regions', level: 'region', id: 'reg_istat_code', name: 'reg_name', count: 20 },
  { file: 'provinces', level: 'province', id: 'prov_istat_code', name: 'prov_name', parent: 'reg_istat_code', count: 107 },
  { file: 'municipalities', level: 'municipality', id: 'com_istat_code', name: 'name', parent: 'prov_istat_code', count: 7899 },
];
/** The citizens' page's "no notices here" item, in both languages. */
const NO_NOTICES = ['No notices in force here.', 'Nessun avviso in vigore qui.'];

const PAGES = {
  citizen: { path: '/', milestone: 'notices shown', viewport: { width: 412, height: 915 }, waitForMilestone: noticesShown },
  console: { path: '/console', milestone: 'map drawn', viewport: { width: 1280, height: 800 }, waitForMilestone: mapDrawn },
};

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'vedetta-page-load-'));
  const running = [];
  try {
    const geojsonBundle = buildGeojsonUi(work);
    const dataDir = path.join(work, 'data');
    importItaly(dataDir);
    addAccounts(dataDir);
    const hub = await startHub(dataDir);
    running.push(hub);
    const token = await logIn(hub.url, 'olga');
    const noticeZone = await publishNoticeAt(hub.url, BOLOGNA, token, await logIn(hub.url, 'aldo'));
    const geojson = await startGeojsonOrigin(hub.url, geojsonBundle);
    running.push(geojson);
    const paths = [{ name: 'vector tiles', origin: hub.url }, { name: 'GeoJSON', origin: geojson.url }];
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: OFFLINE_CHROMIUM });
    running.push({ stop: () => browser.close() });
    // Each page once, fast, so the hub has cut the tiles they ask for, as after any first visitor.
    for (const kind of Object.keys(PAGES)) for (const { origin } of paths) await primeHub(browser, origin, kind, token);
    const results = [];
    for (const kind of Object.keys(PAGES)) {
      for (const { name, origin } of paths) results.push(...await measurePage(browser, { kind, path: name, origin, token }));
    }
    printTable(results, noticeZone);
  } finally {
    for (const thing of running.reverse()) await thing.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

// ---- Setting up: the old UI, the zones, the accounts, the hub and a notice in force ----------

/** The pages as they were before the vector tiles, bundled by today's esbuild into `work`. */
function buildGeojsonUi(work) {
  const source = path.join(work, 'geojson-ui');
  mkdirSync(source);
  const archive = run('git', ['-C', REPO, 'archive', GEOJSON_UI_COMMIT, 'ui/src', 'ui/build.mjs']);
  run('tar', ['-x', '-C', source], archive);
  symlinkSync(path.join(REPO, 'ui/node_modules'), path.join(source, 'ui/node_modules'));
  const bundle = path.join(work, 'geojson-bundle');
  run('node', ['ui/build.mjs', bundle], undefined, source);
  return bundle;
}

/** Italy's three levels, imported by the CLI as the README tells an office to. */
function importItaly(dataDir) {
  for (const zones of ZONE_LEVELS) {
    const args = ['zones', 'import', path.join(ITALY, `${zones.file}.geojson.gz`), '--level', zones.level,
      '--id-prop', zones.id, '--name-prop', zones.name, '--data-dir', dataDir];
    if (zones.parent) args.push('--parent-prop', zones.parent);
    const said = run(VEDETTA, args).toString();
    if (!said.includes(`imported ${zones.count} zones`)) throw new Error(`importing ${zones.file}: ${said}`);
  }
}

function addAccounts(dataDir) {
  for (const [name, role] of ACCOUNTS) run(VEDETTA, ['users', 'add', name, '--role', role, '--data-dir', dataDir], `${PASSWORD}\n`);
}

/** Runs a command to its end; its stdout and stderr together, or an error saying what failed. */
function run(command, args, input, cwd) {
  const done = spawnSync(command, args, { input, cwd, maxBuffer: 64 << 20 });
  if (done.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${done.error ?? done.stderr}`);
  return Buffer.concat([done.stdout, done.stderr]);
}

async function startHub(dataDir) {
  const hub = spawn(VEDETTA, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--no-mqtt'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const stopped = new Promise((resolve) => hub.on('exit', resolve));
  const stop = () => stopChild(hub, stopped);
  const url = await boundAddress(hub).catch(async (error) => {
    await stop();
    throw error;
  });
  return { url, stop };
}

/** The address the hub logs once it listens, waited for 30 s at most. */
function boundAddress(hub) {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`the hub did not say where it listens in 30 s:\n${log}`)), 30_000);
    const read = (chunk) => {
      // Keep reading after the address: a full pipe would block the hub's logging.
      log = (log + chunk).slice(-20_000);
      const found = log.replace(/\x1b\[[0-9;]*m/g, '').match(/listening on (http:\/\/[\d.:]+)/);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    };
    hub.stdout.on('data', read);
    hub.stderr.on('data', read);
    hub.on('exit', (code) => reject(new Error(`the hub exited with ${code}:\n${log}`)));
  });
}

async function stopChild(child, stopped) {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await stopped;
  clearTimeout(timer);
}

async function logIn(hub, name) {
  return (await call(hub, 'POST', '/api/v1/auth/login', null, { name, password: PASSWORD })).token;
}

/** One Actual notice over the municipality at `where`, drafted by one account, approved by another. */
async function publishNoticeAt(hub, where, drafter, approver) {
  const { zones } = await call(hub, 'GET', `/api/v1/zones/lookup?lat=${where.latitude}&lon=${where.longitude}`);
  const municipality = zones.find((zone) => zone.level === 'municipality');
  const draft = await call(hub, 'POST', '/api/v1/notices', drafter, noticeOver(municipality.id));
  await call(hub, 'POST', `/api/v1/notices/${draft.id}/approve`, approver, { version: draft.version, confirm_status: draft.status });
  return municipality.name;
}

function noticeOver(zoneId) {
  return {
    status: 'Actual', category: ['Met'], urgency: 'Immediate', severity: 'Severe', certainty: 'Likely',
    expires: new Date(Date.now() + 6 * 3600_000).toISOString(),
    contact: 'Sala operativa 051 000000',
    info: {
      it: { event: 'Allerta idraulica', headline: 'Allerta rossa per piena del Reno', instruction: 'Allontanarsi dagli argini.' },
      en: { event: 'Flood warning', headline: 'Red alert: Reno river in flood', instruction: 'Keep away from the banks.' },
    },
    area: { zones: [zoneId] },
  };
}

async function call(hub, method, apiPath, token, body) {
  const headers = { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const response = await fetch(`${hub}${apiPath}`, { method, headers, body: body && JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${apiPath}: HTTP ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

// ---- The GeoJSON path: the old pages on an origin of their own, the rest passed to the hub ---

/** A local origin serving the old pages at `/` and `/console` and their bundle under `/ui/`,
 * as the hub serves its own (ETag, no-cache, brotli or gzip); every other request, WebSocket
 * included, goes to the hub untouched. Real network traffic, so the browser counts it alike. */
async function startGeojsonOrigin(hubUrl, bundleDir) {
  const hub = new URL(hubUrl);
  const files = bundleFiles(bundleDir, await pageHeaders(hubUrl));
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((request, response) => {
    const file = request.method === 'GET' && files.get(new URL(request.url, hubUrl).pathname);
    if (file) serveFile(file, request, response);
    else forward(request, response, hub, agent);
  });
  server.on('upgrade', (request, socket, head) => tunnel(request, socket, head, hub));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () => {
      server.closeAllConnections();
      agent.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The hub's security headers for its pages (CSP and the like), for the old pages too. */
async function pageHeaders(hubUrl) {
  const response = await fetch(`${hubUrl}/`);
  await response.arrayBuffer();
  const names = ['content-security-policy', 'x-frame-options', 'referrer-policy'];
  return Object.fromEntries(names.filter((name) => response.headers.has(name)).map((name) => [name, response.headers.get(name)]));
}

const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml', '.txt': 'text/plain; charset=utf-8' };

function bundleFiles(dir, securityHeaders) {
  const pages = { 'citizen.html': '/', 'console.html': '/console' };
  const files = new Map();
  for (const name of readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())) {
    const relative = path.relative(dir, path.join(name.parentPath ?? name.path, name.name));
    const bytes = readFileSync(path.join(dir, relative));
    const urlPath = pages[relative] ?? `/ui/${relative}`;
    files.set(urlPath, preparedFile(relative, bytes, pages[relative] ? securityHeaders : {}));
  }
  return files;
}

function preparedFile(name, bytes, extraHeaders) {
  const type = CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream';
  // As the hub's compression layer: everything but raster images.
  const compressible = !type.startsWith('image/') || type.startsWith('image/svg');
  return {
    headers: {
      'content-type': type,
      etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`,
      // esbuild's hashed names (layers-55W3Q4RM.png) never change, as in the hub's is_versioned.
      'cache-control': /-[A-Z0-9]{8}\.[a-z]+$/.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      ...extraHeaders,
    },
    bodies: compressible
      ? { br: zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }), gzip: zlib.gzipSync(bytes), identity: bytes }
      : { identity: bytes },
  };
}

function serveFile(file, request, response) {
  if (request.headers['if-none-match'] === file.headers.etag) {
    response.writeHead(304, { etag: file.headers.etag, 'cache-control': file.headers['cache-control'] });
    return response.end();
  }
  const accepted = request.headers['accept-encoding'] ?? '';
  const encoding = ['br', 'gzip'].find((name) => file.bodies[name] && accepted.includes(name)) ?? 'identity';
  const body = file.bodies[encoding];
  const encodingHeaders = encoding === 'identity' ? {} : { 'content-encoding': encoding, vary: 'accept-encoding' };
  response.writeHead(200, { ...file.headers, ...encodingHeaders, 'content-length': body.length });
  response.end(body);
}

function forward(request, response, hub, agent) {
  const upstream = http.request({
    host: hub.hostname, port: hub.port, method: request.method, path: request.url, agent,
    headers: { ...request.headers, host: hub.host },
  }, (answer) => {
    response.writeHead(answer.statusCode, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => response.destroy());
  request.pipe(upstream);
}

/** A WebSocket upgrade, passed through byte for byte. */
function tunnel(request, socket, head, hub) {
  const upstream = net.connect(Number(hub.port), hub.hostname, () => {
    const lines = [];
    for (let i = 0; i < request.rawHeaders.length; i += 2) lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
    upstream.write(`${request.method} ${request.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
}

// ---- Measuring ---------------------------------------------------------------------------

/** As ui/tests/harness.mjs: this machine reaches no internet, keep chromium from trying. */
const OFFLINE_CHROMIUM = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function primeHub(browser, origin, kind, token) {
  const { context, page, traffic } = await openPage(browser, kind, token);
  progress(`${kind}: priming the hub from ${origin}`);
  await page.goto(origin + PAGES[kind].path, { waitUntil: 'commit' });
  await PAGES[kind].waitForMilestone(page, traffic);
  await networkIdle(traffic);
  await context.close();
}

/** A cold load (empty cache, cache off) and a warm reload (cache on) of one page on one path. */
async function measurePage(browser, { kind, path: pathName, origin, token }) {
  const { context, page, cdp, traffic } = await openPage(browser, kind, token);
  await cdp.send('Network.emulateNetworkConditions', SLOW_PHONE);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  progress(`${kind}, ${pathName} path: cold load`);
  const cold = await timeLoad(page, cdp, traffic, () => page.goto(origin + PAGES[kind].path, { waitUntil: 'commit' }), kind);
  // A reload comes after the page has finished loading (the citizens' map, its tiles...).
  await networkIdle(traffic);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  progress(`${kind}, ${pathName} path: warm reload`);
  const warm = await timeLoad(page, cdp, traffic, () => page.reload({ waitUntil: 'commit' }), kind);
  await context.close();
  const row = (load, figures) => ({ kind, path: pathName, load, ...figures });
  return [row('cold', cold), row('warm', warm)];
}

/** A fresh profile in Bologna with geolocation granted, the operator's session in the tab (as
 * after logging in), a probe that notes when the notices and the map change, and its traffic.
 * Service workers are blocked: CDP's network emulation does not reach their requests (tried on
 * the worker's own target too), so a worker would answer a reload over an unthrottled link. */
async function openPage(browser, kind, token) {
  const context = await browser.newContext({
    locale: 'en-GB', viewport: PAGES[kind].viewport, geolocation: BOLOGNA, permissions: ['geolocation'],
    serviceWorkers: 'block',
  });
  context.setDefaultTimeout(LOAD_TIMEOUT_MS);
  await context.addInitScript(probe, { token: kind === 'console' ? token : null, noNotices: NO_NOTICES });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const traffic = await watchTraffic(cdp);
  page.on('pageerror', (error) => traffic.problems.push(`script error: ${error.message}`));
  return { context, page, cdp, traffic };
}

/** Runs in the page before its scripts: notes (in the page's clock, from navigation start)
 * the first frame showing notice cards or "no notices", and the last frame that changed the map. */
function probe({ token, noNotices }) {
  if (token) sessionStorage.setItem('vedetta.token', token);
  const seen = (window.__bench = { cardsAt: null, noNoticesAt: null, mapChangedAt: null });
  const inNextFrame = (note) => requestAnimationFrame(() => note(performance.now()));
  new MutationObserver((mutations) => {
    const list = document.getElementById('notice-list');
    if (list?.querySelector('.notice-card') && seen.cardsAt === null) {
      seen.cardsAt = -1;
      inNextFrame((at) => (seen.cardsAt = at));
    }
    const empty = list?.querySelector('li.empty')?.textContent.trim();
    if (noNotices.includes(empty) && seen.noNoticesAt === null) {
      seen.noNoticesAt = -1;
      inNextFrame((at) => (seen.noNoticesAt = at));
    }
    if (mutations.some((mutation) => mutation.target.closest?.('#map'))) inNextFrame((at) => (seen.mapChangedAt = at));
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['class'] });
}

/** What the page asks the network for, by CDP: requests, their encoded bytes and end times
 * (in epoch milliseconds), what is in flight, failures, and a wait for the network to be idle. */
async function watchTraffic(cdp) {
  const traffic = { requests: new Map(), inFlight: new Set(), problems: [], clockOffset: null, onChange: () => {} };
  const wallTime = (timestamp) => timestamp * 1000 + traffic.clockOffset;
  cdp.on('Network.requestWillBeSent', ({ requestId, request, timestamp, wallTime: wall }) => {
    if (!/^https?:/.test(request.url)) return;
    // CDP stamps events with a monotonic clock; the request's wall time relates it to the page's.
    traffic.clockOffset ??= wall * 1000 - timestamp * 1000;
    traffic.requests.set(requestId, { url: request.url, sentAt: wallTime(timestamp), bytes: 0, status: null });
    traffic.inFlight.add(requestId);
    traffic.onChange();
  });
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    const request = traffic.requests.get(requestId);
    if (!request) return;
    request.status = response.status;
    if (response.fromDiskCache) request.fromCache = true;
    if (response.status === 304) request.revalidated = true;
  });
  // A revalidated answer: CDP's own status may say 200 for it (a page's navigation does).
  cdp.on('Network.responseReceivedExtraInfo', ({ requestId, statusCode }) => {
    const request = traffic.requests.get(requestId);
    if (request && statusCode === 304) request.revalidated = true;
  });
  cdp.on('Network.requestServedFromCache', ({ requestId }) => {
    const request = traffic.requests.get(requestId);
    if (request) request.fromCache = true;
  });
  cdp.on('Network.loadingFinished', ({ requestId, timestamp, encodedDataLength }) => {
    const request = traffic.requests.get(requestId);
    if (!request) return;
    Object.assign(request, { endedAt: wallTime(timestamp), bytes: encodedDataLength });
    traffic.inFlight.delete(requestId);
    traffic.onChange();
  });
  cdp.on('Network.loadingFailed', ({ requestId, timestamp, errorText, canceled }) => {
    const request = traffic.requests.get(requestId);
    if (!request) return;
    request.endedAt = wallTime(timestamp);
    if (!canceled) traffic.problems.push(`failed: ${shortUrl(request.url)} (${errorText})`);
    traffic.inFlight.delete(requestId);
    traffic.onChange();
  });
  await cdp.send('Network.enable');
  traffic.reset = () => {
    traffic.requests.clear();
    traffic.inFlight.clear();
    traffic.problems = [];
    traffic.clockOffset = null;
  };
  traffic.idle = () => new Promise((resolve) => {
    let timer;
    traffic.onChange = () => {
      clearTimeout(timer);
      if (!traffic.inFlight.size) timer = setTimeout(resolve, QUIET_MS);
    };
    traffic.onChange();
  });
  return traffic;
}

/** One load: time from navigation to the page's milestone, what the network carried until then,
 * and the JS heap at that point. */
async function timeLoad(page, cdp, traffic, navigate, kind) {
  traffic.reset();
  await navigate();
  const milestoneMs = await PAGES[kind].waitForMilestone(page, traffic);
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const timeOrigin = await page.evaluate(() => performance.timeOrigin);
  const until = [...traffic.requests.values()].filter((request) => request.sentAt - timeOrigin <= milestoneMs);
  const done = until.filter((request) => request.endedAt !== undefined && request.endedAt - timeOrigin <= milestoneMs);
  return {
    ms: milestoneMs,
    bytes: done.reduce((sum, request) => sum + request.bytes, 0),
    requests: until.length,
    cached: until.filter((request) => request.fromCache || request.revalidated).length,
    heap: usedSize,
    problems: traffic.problems,
    log: until.map((request) => ({ ...request, sentAt: request.sentAt - timeOrigin, endedAt: request.endedAt - timeOrigin })),
    ...(await noticesNote(page, kind)),
  };
}

/** Citizens' page: the first frame with notice cards for Bologna (one is in force there); the
 * "no notices" item stands in only if no card comes. */
async function noticesShown(page) {
  const shown = () => window.__bench?.cardsAt > 0 || window.__bench?.noNoticesAt > 0;
  await page.waitForFunction(shown, null, { polling: 100 });
  const cardAt = () => window.__bench.cardsAt > 0 && window.__bench.cardsAt;
  // "No notices" first: the card may still come, as the hub sends the one in force.
  const card = await page.waitForFunction(cardAt, null, { polling: 100 }).then((handle) => handle.jsonValue(), () => null);
  return card ?? page.evaluate(() => window.__bench.noNoticesAt);
}

async function noticesNote(page, kind) {
  if (kind !== 'citizen') return {};
  const bench = await page.evaluate(() => window.__bench);
  if (!(bench.cardsAt > 0)) return { note: 'no notice card: "no notices" shown instead' };
  if (bench.noNoticesAt > 0 && bench.noNoticesAt < bench.cardsAt) {
    return { note: `"no notices" shown at ${seconds(bench.noNoticesAt)}, before the card` };
  }
  return {};
}

/** Console: live (`#connection.online`: reports, incidents and notices loaded), its zone layer
 * drawn (the GeoJSON layer's SVG paths, or every tile of the tile layer loaded), and the network
 * idle; the milestone is the later of the last frame that changed the map and the last response. */
async function mapDrawn(page, traffic) {
  const zoneLayerDrawn = () => {
    const map = document.querySelector('#map.leaflet-container');
    const drawn = map?.querySelector('.leaflet-overlay-pane path, .leaflet-tile-pane .leaflet-tile-loaded');
    const loading = map?.querySelector('.leaflet-tile-pane .leaflet-tile:not(.leaflet-tile-loaded)');
    return Boolean(drawn && !loading && document.querySelector('#connection.online'));
  };
  do {
    await page.waitForFunction(zoneLayerDrawn, null, { polling: 100 });
    await networkIdle(traffic);
  } while (!(await page.evaluate(zoneLayerDrawn)));
  const timeOrigin = await page.evaluate(() => performance.timeOrigin);
  const lastResponse = Math.max(...[...traffic.requests.values()].map((request) => request.endedAt ?? 0));
  const lastFrame = await page.evaluate(() => window.__bench.mapChangedAt);
  return Math.max(lastFrame, lastResponse - timeOrigin);
}

function networkIdle(traffic) {
  const inFlight = () => [...traffic.inFlight].map((id) => shortUrl(traffic.requests.get(id).url)).join(', ');
  return withTimeout(traffic.idle(), () => `the network to be idle (in flight: ${inFlight()})`);
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${LOAD_TIMEOUT_MS / 1000} s for ${what()}`)), LOAD_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- Reporting ---------------------------------------------------------------------------

function printTable(results, noticeZone) {
  const link = `${SLOW_PHONE.downloadThroughput * 8 / 1e6} Mbit/s down, ${SLOW_PHONE.uploadThroughput * 8 / 1e3} kbit/s up, ${SLOW_PHONE.latency} ms`;
  console.log(`Page load with Italy's zones (20 regions, 107 provinces, 7,899 municipalities), ${link}.`);
  console.log(`Citizen in Bologna with one notice in force over ${noticeZone}; console as an operator.`);
  console.log('cold: cache off, empty profile; warm: reload with the cache on. KB = 1000 bytes.\n');
  const header = ['page', 'path', 'load', 'milestone', 'time', 'bytes', 'requests', 'JS heap', 'target'];
  const rows = results.map((result) => [
    result.kind, result.path, result.load, PAGES[result.kind].milestone, seconds(result.ms), size(result.bytes),
    result.cached ? `${result.requests} (${result.cached} cached)` : String(result.requests),
    size(result.heap), result.path === 'GeoJSON' ? '' : targetCheck(result),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
  console.log('');
  for (const kind of Object.keys(PAGES)) console.log(ratioLine(results, kind));
  const notes = results.flatMap((result) => [
    ...(result.note ? [`${result.kind} ${result.path} ${result.load}: ${result.note}`] : []),
    ...unexpected(result).map((problem) => `${result.kind} ${result.path} ${result.load}: ${problem}`),
  ]);
  if (notes.length) console.log(`\nnotes:\n  ${notes.join('\n  ')}`);
  if (VERBOSE) results.forEach(printRequests);
}

function targetCheck({ kind, ms, bytes }) {
  const target = TARGETS[kind];
  const mark = (ok) => (ok ? 'ok' : 'MISSED');
  return `≤ ${seconds(target.ms)} ${mark(ms <= target.ms)}, ≤ ${size(target.bytes)} ${mark(bytes <= target.bytes)}`;
}

/** How many times better the vector tiles do than the GeoJSON path, cold and warm. */
function ratioLine(results, kind) {
  const parts = ['cold', 'warm'].map((load) => {
    const find = (pathName) => results.find((result) => result.kind === kind && result.path === pathName && result.load === load);
    const [tiles, geojson] = [find('vector tiles'), find('GeoJSON')];
    const times = geojson.ms / tiles.ms;
    const bytes = geojson.bytes / Math.max(tiles.bytes, 1);
    const mark = (ratio) => (ratio >= TARGETS.ratio ? '' : ' MISSED');
    return `${load} time ${times.toFixed(1)}×${mark(times)}, bytes ${bytes.toFixed(1)}×${mark(bytes)}`;
  });
  return `${kind}: GeoJSON ÷ vector tiles (target ≥ ${TARGETS.ratio}×): ${parts.join('; ')}`;
}

/** Failed or refused requests and script errors: nothing of the kind should happen. */
function unexpected(result) {
  const refused = result.log.filter((request) => request.status >= 400).map((request) => `HTTP ${request.status} ${shortUrl(request.url)}`);
  return [...refused, ...result.problems];
}

function printRequests(result) {
  console.log(`\n${result.kind} ${result.path} ${result.load}:`);
  for (const request of result.log.sort((a, b) => a.sentAt - b.sentAt)) {
    const status = request.revalidated ? '304' : `${request.status}${request.fromCache ? ' cache' : ''}`;
    console.log(`  ${seconds(request.sentAt).padStart(7)} → ${seconds(request.endedAt).padStart(7)}  ${status.padEnd(9)} ${size(request.bytes).padStart(9)}  ${shortUrl(request.url)}`);
  }
}

/** What the bench is doing, on stderr, so that a long run shows where it is. */
function progress(message) {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function shortUrl(url) {
  const { pathname, search } = new URL(url);
  const whole = pathname + search;
  return whole.length > 70 ? `${whole.slice(0, 67)}...` : whole;
}

/** Seconds to the hundredth, "2 s" rather than "2.00 s". */
function seconds(ms) {
  return Number.isFinite(ms) ? `${Number((ms / 1000).toFixed(2))} s` : '-';
}

function size(bytes) {
  if (bytes >= 1e6) return `${Number((bytes / 1e6).toFixed(2))} MB`;
  return `${Number((bytes / 1e3).toFixed(1))} KB`;
}

await main();
