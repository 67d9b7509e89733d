// The citizens' page offline: its shell and scripts from the cache, the office settings and the
// zone tiles seen last, so the page opens with no connection and queues reports as usual.
import { precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkFirst } from 'workbox-strategies';
import { CacheableResponsePlugin } from 'workbox-cacheable-response';
import { ExpirationPlugin } from 'workbox-expiration';

/** Seconds to wait for the hub before answering from the cache. */
const PATIENCE = 4;

// The build replaces this with the citizen page's files and their content hashes.
precacheAndRoute(self.__WB_MANIFEST);

// The page itself: the hub's newest when it answers, else the last one seen.
registerRoute(new NavigationRoute(new NetworkFirst({ cacheName: 'pages', networkTimeoutSeconds: PATIENCE }), {
  allowlist: [/^\/$/],
}));

// What the page reads before it draws: the office, its categories.
registerRoute(
  ({ url }) => ['/ui/config.json', '/api/v1/categories'].includes(url.pathname),
  new NetworkFirst({ cacheName: 'settings', networkTimeoutSeconds: PATIENCE }),
);

// Zone tiles never change under their versioned URL; keep the last few hundred seen.
registerRoute(
  ({ url }) => url.pathname.startsWith('/tiles/zones/'),
  new CacheFirst({
    cacheName: 'zone-tiles',
    plugins: [
      // Only tiles of the zone set in force: the hub marks those of an older one `no-cache`.
      new CacheableResponsePlugin({ statuses: [200], headers: { 'cache-control': 'public, max-age=31536000, immutable' } }),
      new ExpirationPlugin({ maxEntries: 600 }),
    ],
  }),
);

// The page and what it reads first are cached as soon as the worker installs, so it opens
// offline after one visit (the page fetched them before the worker could see them).
self.addEventListener('install', (event) => {
  event.waitUntil(Promise.all([
    caches.open('pages').then((pages) => pages.add('/')),
    caches.open('settings').then((settings) => settings.addAll(['/ui/config.json', '/api/v1/categories'])),
  ]).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
