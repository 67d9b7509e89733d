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

// A notice pushed by the hub while the page is closed (Web Push, `schemas/push-payload`): one
// notification per thread, so an update or cancellation replaces the alert it follows.
const MARKS = {
  it: { Test: '[PROVA] ', Exercise: '[ESERCITAZIONE] ', cancel: 'REVOCATO: ', update: 'AGGIORNAMENTO: ' },
  en: { Test: '[TEST] ', Exercise: '[EXERCISE] ', cancel: 'CANCELLED: ', update: 'UPDATE: ' },
};

self.addEventListener('push', (event) => {
  let notice;
  try {
    notice = event.data.json();
  } catch {
    return;
  }
  const marks = (self.navigator.language ?? 'it').startsWith('en') ? MARKS.en : MARKS.it;
  const title = `${marks[notice.status] ?? ''}${marks[notice.kind] ?? ''}${notice.headline}`;
  event.waitUntil(self.registration.showNotification(title, {
    body: notice.body,
    tag: notice.thread_id,
    renotify: true,
    requireInteraction: notice.urgency === 'Immediate' && notice.kind !== 'cancel',
    icon: '/ui/pwa/icon-192.png',
    data: { url: notice.url ?? '/' },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url ?? '/', self.location.origin);
  // Only the hub's own page: a payload cannot send the citizen elsewhere.
  const target = url.origin === self.location.origin ? url.href : '/';
  event.waitUntil(self.clients.matchAll({ type: 'window' }).then((windows) => {
    const open = windows.find((client) => new URL(client.url).pathname === '/');
    return open ? open.navigate(target).then((client) => client?.focus()) : self.clients.openWindow(target);
  }));
});
