// The pages with every Italian municipality, province and region loaded: light enough for a
// phone on a slow link, maps drawn from zone tiles, places found by name, and accessible.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  HUB, accessibilityProblems, apiAs, launch, logIn, mapDrawn, mapZoomedIn, screenshot, watchTransfer,
} from './harness.mjs';

/** What the citizen page may transfer before it shows the notices of a place (design.md). */
const CITIZEN_BUDGET = 300_000;
/** What the console may transfer to draw the national map. */
const CONSOLE_MAP_BUDGET = 1_500_000;
const MAX_TABS_TO_SEND = 15;
const HEADLINE = 'Esondazione del Montone a Forlì';
const EDGE_HEADLINE = 'Frana sulla collina di Forlì';
const WIDE_HEADLINE = "Raffiche sull'Appennino tosco-emiliano";
const CANCEL_NOTE = 'Il Montone è rientrato negli argini: si può tornare a casa.';
/** The centre of Forlì. */
const FORLI = { latitude: 44.2225, longitude: 12.0408 };
const PHONE = { width: 390, height: 844 };

describe('the pages with every Italian zone loaded', () => {
  let browser;
  let operator;
  let approver;
  let forli;
  let notice;
  let citizen;

  before(async () => {
    browser = await launch();
    operator = await apiAs('olga');
    approver = await apiAs('aldo');
    // Forlì's own notice, published the way the console does it: drafted by one, approved by another.
    forli = (await operator('GET', '/api/v1/places?q=forli&limit=5')).places.find((place) => place.name === 'Forlì');
    assert.ok(forli, 'the hub knows Forlì');
    const draft = await operator('POST', '/api/v1/notices', {
      msg_type: 'Alert', status: 'Actual', category: ['Met'], urgency: 'Immediate', severity: 'Severe', certainty: 'Likely',
      expires: new Date(Date.now() + 6 * 3600e3).toISOString(),
      contact: 'Sala operativa 0543 000000',
      web: 'https://protezionecivile.example.org/forli',
      info: {
        it: { event: 'Allerta idraulica', headline: HEADLINE, instruction: 'Salire ai piani alti, non usare l’auto.' },
        en: { event: 'Flood warning', headline: 'The Montone floods Forlì', instruction: 'Go upstairs, do not drive.' },
      },
      area: { zones: [forli.id] },
    });
    await approver('POST', `/api/v1/notices/${draft.id}/approve`, { version: draft.version, confirm_status: 'Actual' });
    notice = draft;
  });

  after(async () => {
    await browser?.close();
    assert.deepEqual(browser.problems, [], 'pages stay on the hub and raise no script errors');
  });

  test('the citizen page shows its form at once and the notices of a municipality found by name, within 300 KB', async () => {
    citizen = await browser.page({ locale: 'it-IT', viewport: PHONE });
    const transfer = await watchTransfer(citizen);
    // Whether the page ever says there is nothing here while a notice is in force.
    await citizen.addInitScript(() => {
      new MutationObserver(() => {
        if (document.body?.textContent.includes('Nessun avviso in vigore qui')) window.saidNone = true;
      }).observe(document, { childList: true, subtree: true, characterData: true });
    });
    await citizen.goto(HUB);
    const emergency = citizen.getByRole('link', { name: 'In pericolo? Chiama il 112' });
    await emergency.waitFor();
    assert.equal(await emergency.getAttribute('href'), 'tel:112');
    await citizen.getByRole('button', { name: 'Invia segnalazione' }).waitFor();

    await citizen.getByRole('combobox', { name: 'Oppure cerca il comune' }).fill('forli');
    const option = citizen.locator('.place-option', { has: citizen.locator('.place-name', { hasText: /^Forlì$/ }) });
    await option.click();
    await citizen.locator('#place', { hasText: 'Forlì' }).waitFor();
    await citizen.locator('.notice-card', { hasText: HEADLINE }).waitFor();

    assert.equal(await citizen.evaluate(() => window.saidNone ?? false), false, 'never "no notices" before the hub answered');
    const bytes = transfer.bytes();
    console.log(`citizen page: ${bytes} bytes before the notices showed`);
    assert.ok(bytes < CITIZEN_BUDGET, `${bytes} bytes before the notices showed`);
    assert.deepEqual(transfer.urls.filter((url) => url.includes('/api/v1/zones?')), [], 'no zones as GeoJSON');

    await mapDrawn(citizen);
    assert.ok(transfer.urls.some((url) => url.includes('/tiles/zones/')), 'the map draws zone tiles');
    await screenshot(citizen, 'italy-01-citizen-forli');
  });

  test('a comune picked by name shows the notices over any part of it, not only over its centre', async () => {
    // A small circle on Forlì's hills, 7 km from the centre the search gives.
    const edge = { lat: 44.28, lon: 12.1 };
    const there = await operator('GET', `/api/v1/zones/lookup?lat=${edge.lat}&lon=${edge.lon}`);
    assert.equal(there.zones[0].name, 'Forlì');
    const draft = await operator('POST', '/api/v1/notices', {
      msg_type: 'Alert', status: 'Actual', category: ['Geo'], urgency: 'Expected', severity: 'Moderate', certainty: 'Likely',
      expires: new Date(Date.now() + 6 * 3600e3).toISOString(),
      info: { it: { event: 'Frana', headline: EDGE_HEADLINE, instruction: 'Non percorrere via dei Colli.' } },
      area: { circles: [{ ...edge, radius_km: 1 }] },
    });
    await approver('POST', `/api/v1/notices/${draft.id}/approve`, { version: draft.version, confirm_status: 'Actual' });

    const page = await browser.page({ locale: 'it-IT', viewport: PHONE });
    await page.goto(HUB);
    await page.getByRole('combobox', { name: 'Oppure cerca il comune' }).fill('forli');
    await page.locator('.place-option', { has: page.locator('.place-name', { hasText: /^Forlì$/ }) }).click();
    await page.locator('.notice-card', { hasText: EDGE_HEADLINE }).waitFor();
    await page.locator('.notice-card', { hasText: HEADLINE }).waitFor();
    await page.context().close();
  });

  test('the notice card says who issued it and when, whom to contact, and names Forlì, not its region', async () => {
    const card = citizen.locator('.notice-card', { hasText: HEADLINE });
    const text = await card.textContent();
    assert.match(text, /Emesso il .+ da /);
    assert.match(text, /Contatto: Sala operativa 0543 000000/);
    assert.match(text, /Zone: Forlì\b/);
    assert.doesNotMatch(text, /Emilia-Romagna/);
  });

  test('from the top of the citizen page, Tab reaches the send button in at most 15 presses', async () => {
    // A fresh load starts the Tab order at the top; the place and its notice come back with it,
    // and the map opens on it: no tile of the whole country is fetched on the way.
    const zooms = [];
    const seeTile = (request) => {
      const tile = request.url().match(/\/tiles\/zones\/[^/]+\/(\d+)\//);
      if (tile) zooms.push(Number(tile[1]));
    };
    citizen.on('request', seeTile);
    await citizen.reload();
    await citizen.locator('.notice-card', { hasText: HEADLINE }).waitFor();
    await mapDrawn(citizen);
    citizen.off('request', seeTile);
    assert.ok(zooms.length && zooms.every((zoom) => zoom >= 9), `zone tile zooms on reload: ${zooms}`);
    const path = [];
    for (let presses = 1; presses <= MAX_TABS_TO_SEND; presses += 1) {
      await citizen.keyboard.press('Tab');
      const focused = await citizen.evaluate(() => {
        const element = document.activeElement;
        return { id: element.id, name: `${element.tagName.toLowerCase()}#${element.id}.${element.className} ${element.getAttribute('aria-label') ?? element.textContent.slice(0, 30)}` };
      });
      path.push(focused.name);
      if (focused.id === 'send') return;
    }
    assert.fail(`the send button is not reached in ${MAX_TABS_TO_SEND} presses: ${path.join(' → ')}`);
  });

  test('a report of people in danger gives the emergency number and how soon it is taken in hand, never a day-long answer time', async () => {
    await citizen.getByLabel('Persone in pericolo').check();
    const warning = citizen.locator('#life-safety', { hasText: 'chiama subito il 112' });
    await warning.waitFor();
    assert.match(await warning.textContent(), /entro 5 minuti/);
    await citizen.getByLabel('Descrivi cosa hai visto').fill('Due persone sul tetto di una casa allagata');
    await citizen.getByRole('button', { name: 'Invia segnalazione' }).click();
    await citizen.locator('#send-status', { hasText: 'chiama subito il 112' }).waitFor();
    const card = citizen.locator('#my-reports .report-card', { hasText: 'Due persone sul tetto' });
    await card.locator('.target', { hasText: 'entro 5 minuti' }).waitFor();

    const id = await citizen.evaluate(() => JSON.parse(localStorage.getItem('vedetta.reports'))[0].id);
    const report = await operator('GET', `/api/v1/reports/${id}`);
    await operator('POST', `/api/v1/reports/${id}/status`, { status: 'acknowledged', version: report.version, public_note: 'Squadra in arrivo' });
    await card.locator('.badge', { hasText: 'Presa in carico' }).waitFor();
    await card.getByText('Squadra in arrivo').waitFor();
    assert.doesNotMatch(await card.textContent(), /Risposta prevista/);
    await screenshot(citizen, 'italy-02b-citizen-life-safety');
  });

  test('the location button works when tapped before the map has loaded', async () => {
    const page = await browser.page({ locale: 'it-IT', viewport: PHONE, geolocation: FORLI });
    let letTheMapLoad;
    const mapMayLoad = new Promise((resolve) => (letTheMapLoad = resolve));
    await page.route('**/ui/chunks/map-view-*', async (route) => {
      await mapMayLoad;
      await route.continue();
    });
    await page.goto(HUB);
    await page.getByRole('button', { name: 'Usa la mia posizione' }).click();
    await page.locator('#place', { hasText: 'Forlì' }).waitFor();
    await page.locator('.notice-card', { hasText: HEADLINE }).waitFor();
    assert.equal(await page.locator('#map .leaflet-container, #map.leaflet-container').count(), 0, 'the map had not loaded yet');
    letTheMapLoad();
    await mapDrawn(page);
    await screenshot(page, 'italy-02-citizen-located');
    await page.context().close();
  });

  test('the citizen page, the login page and the console map have no serious or critical accessibility problems', async () => {
    const page = await browser.page({ locale: 'it-IT', viewport: PHONE, bypassCSP: true });
    await page.goto(HUB);
    await page.getByRole('combobox', { name: 'Oppure cerca il comune' }).fill('forli');
    await page.locator('.place-option', { has: page.locator('.place-name', { hasText: /^Forlì$/ }) }).click();
    await page.locator('.notice-card', { hasText: HEADLINE }).waitFor();
    await mapDrawn(page);
    assert.deepEqual(await accessibilityProblems(page), [], 'citizen page');
    await page.context().close();

    const staff = await browser.page({ bypassCSP: true });
    await staff.goto(`${HUB}/console`);
    await staff.getByLabel('User').waitFor();
    assert.deepEqual(await accessibilityProblems(staff), [], 'login page');
    await logIn(staff, 'olga');
    await mapDrawn(staff);
    assert.deepEqual(await accessibilityProblems(staff), [], 'console map');
    await staff.context().close();
  });

  test('the console queue filters reports by a zone found by name, at any level', async () => {
    const page = await browser.page();
    await logIn(page, 'olga');
    const row = page.locator('.queue-row', { hasText: 'Due persone sul tetto' });
    await row.waitFor();
    const zone = page.getByRole('combobox', { name: 'Zone' });
    await zone.fill('forli');
    await page.locator('#filter-zone-list .place-option', { has: page.locator('.place-name', { hasText: /^Forlì-Cesena$/ }) }).click();
    await page.locator('#queue-count', { hasText: /^1 of/ }).waitFor();
    await row.waitFor();
    await zone.fill('bologna');
    await page.locator('#filter-zone-list .place-option', { has: page.locator('.place-name', { hasText: /^Bologna$/ }) }).first().click();
    await page.locator('#queue-count', { hasText: /^0 of/ }).waitFor();
    await zone.fill('');
    await page.locator('#queue-count', { hasText: /^1 of/ }).waitFor();
    await page.context().close();
  });

  test('the console draws the national map from zone tiles within 1.5 MB and goes to a province found by name', async () => {
    const page = await browser.page();
    const transfer = await watchTransfer(page);
    await logIn(page, 'olga');
    await mapDrawn(page);
    await page.waitForLoadState('networkidle');
    const bytes = transfer.bytes();
    console.log(`console: ${bytes} bytes for the national map`);
    assert.ok(bytes < CONSOLE_MAP_BUDGET, `${bytes} bytes for the national map`);
    assert.deepEqual(transfer.urls.filter((url) => url.includes('/api/v1/zones?')), [], 'no zones as GeoJSON');
    await screenshot(page, 'italy-03-console-national');

    const national = Number(await page.locator('#map').getAttribute('data-zoom'));
    await page.getByRole('combobox', { name: 'Go to a place' }).fill('bologna');
    await page.locator('#map-search-list .place-option', { hasText: 'Bologna' }).first().click();
    await mapZoomedIn(page, national);
    await screenshot(page, 'italy-04-console-bologna');

    await page.locator('#nav-notices').click();
    await page.locator('#new-notice').click();
    const province = Number(await page.locator('#map').getAttribute('data-zoom'));
    await page.getByRole('combobox', { name: 'Add a whole zone' }).fill('forli');
    await page.locator('#area-zone-search-list .place-option', { has: page.locator('.place-name', { hasText: /^Forlì$/ }) }).click();
    await page.locator('#area-zones .zone-chip', { hasText: 'Forlì' }).waitFor();
    await page.locator('#covered-zones', { hasText: 'Forlì' }).waitFor();
    await mapZoomedIn(page, province);
    await screenshot(page, 'italy-05-console-area-zone');
    await page.context().close();
  });

  test('the citizen page installs as an app, opens with no connection showing the notices last seen, and sends a report written offline once back', async () => {
    const page = await browser.page({ locale: 'it-IT', viewport: PHONE });
    const manifest = await (await page.request.get(`${HUB}/manifest.webmanifest`)).json();
    assert.equal(manifest.start_url, '/');
    assert.ok(manifest.icons.some((icon) => icon.sizes === '512x512' && icon.type === 'image/png'));
    await page.goto(HUB);
    await page.getByRole('combobox', { name: 'Oppure cerca il comune' }).fill('forli');
    await page.locator('.place-option', { has: page.locator('.place-name', { hasText: /^Forlì$/ }) }).click();
    await page.locator('.notice-card', { hasText: HEADLINE }).waitFor();
    await page.waitForFunction(() => navigator.serviceWorker?.controller);

    await page.context().setOffline(true);
    await page.reload();
    await page.getByRole('link', { name: 'In pericolo? Chiama il 112' }).waitFor();
    await page.locator('.offline-note', { hasText: 'Senza connessione' }).waitFor();
    await page.locator('.notice-card', { hasText: HEADLINE }).waitFor();
    await page.getByLabel('Allagamento').check();
    await page.getByLabel('Descrivi cosa hai visto').fill('Cantina allagata in via Roma');
    await page.getByRole('button', { name: 'Invia segnalazione' }).click();
    await page.locator('#send-status', { hasText: 'partirà appena possibile' }).waitFor();
    await screenshot(page, 'italy-06a-citizen-offline');

    await page.context().setOffline(false);
    const card = page.locator('#my-reports .report-card', { hasText: 'Cantina allagata' });
    await card.and(page.locator('[data-status="received"]')).waitFor();
    await page.locator('.offline-note').waitFor({ state: 'detached' });
    await page.context().close();
  });

  test('an area reaching into two regions is published only once the approver has ticked that it is meant', async () => {
    const municipality = async (name) => (await operator('GET', `/api/v1/places?q=${name}&limit=10`)).places
      .find((place) => place.level === 'municipality' && place.name === name);
    const [bologna, firenze] = [await municipality('Bologna'), await municipality('Firenze')];
    await operator('POST', '/api/v1/notices', {
      msg_type: 'Alert', status: 'Actual', category: ['Met'], urgency: 'Expected', severity: 'Moderate', certainty: 'Likely',
      expires: new Date(Date.now() + 6 * 3600e3).toISOString(),
      info: { it: { event: 'Vento forte', headline: WIDE_HEADLINE } },
      area: { zones: [bologna.id, firenze.id] },
    });

    const page = await browser.page();
    await logIn(page, 'aldo');
    await page.locator('#nav-notices').click();
    await page.locator('.notice-row', { hasText: WIDE_HEADLINE }).click();
    await page.locator('#approve-notice').click();
    const dialog = page.locator('#approve-dialog');
    await dialog.locator('.wide-area-warning', { hasText: /2 regions \(.*Emilia-Romagna.*\)/ }).waitFor();
    await dialog.getByLabel(/real emergency/).check();
    await dialog.locator('#confirm-approve').click();
    assert.ok(await dialog.isVisible(), 'not published without the wide-area tick');
    await screenshot(page, 'italy-07-console-wide-area');
    await dialog.getByLabel(/checked the area/).check();
    await dialog.locator('#confirm-approve').click();
    await page.locator('.notice-review .badge', { hasText: 'Published' }).waitFor();
    await page.context().close();
  });

  test('a cancelled notice stays on the citizen page as "Revocato" with its note', async () => {
    const cancel = await operator('POST', `/api/v1/notices/${notice.id}/cancel`);
    const content = structuredClone(cancel.content);
    content.info.it = { ...content.info.it, description: CANCEL_NOTE };
    const edited = await operator('PUT', `/api/v1/notices/${cancel.id}`, { version: cancel.version, content });
    await approver('POST', `/api/v1/notices/${edited.id}/approve`, { version: edited.version, confirm_status: 'Actual' });

    const card = citizen.locator('.notice-card.cancelled', { hasText: CANCEL_NOTE });
    await card.waitFor();
    assert.match(await card.textContent(), /Revocato/);
    assert.doesNotMatch(await card.textContent(), /piani alti/, 'the withdrawn advice is not repeated');
    await screenshot(citizen, 'italy-06-citizen-cancelled');

    // Someone who opens the page only now learns the alert was withdrawn too.
    const later = await browser.page({ locale: 'it-IT', viewport: PHONE });
    await later.goto(HUB);
    await later.getByRole('combobox', { name: 'Oppure cerca il comune' }).fill('forli');
    await later.locator('.place-option', { has: later.locator('.place-name', { hasText: /^Forlì$/ }) }).click();
    await later.locator('.notice-card.cancelled', { hasText: CANCEL_NOTE }).waitFor();
    await later.context().close();
  });
});
