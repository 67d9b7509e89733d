// The console and the citizen page together, in a real browser against the real hub.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HUB, MONTEVERDE, PASSWORD, accessibilityProblems, launch, logIn, mapDrawn, screenshot } from './harness.mjs';

describe('the console and the citizen page', () => {
  let browser;
  let operator;
  let citizen;

  before(async () => {
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    assert.deepEqual(browser.problems, [], 'pages stay on the hub and raise no script errors');
  });

  test('a wrong password is refused and the right one opens the console with the role\'s actions', async () => {
    operator = await browser.page();
    await operator.goto(`${HUB}/console`);
    await screenshot(operator, '01-console-login');
    await operator.getByLabel('User').fill('olga');
    await operator.getByLabel('Password').fill('not the password');
    await operator.getByRole('button', { name: 'Log in' }).click();
    await operator.getByRole('alert').filter({ hasText: /password/i }).waitFor();
    await operator.getByLabel('Password').fill(PASSWORD);
    await operator.getByRole('button', { name: 'Log in' }).click();
    await operator.locator('#connection.online').waitFor();
    assert.equal(await operator.locator('#nav-audit').count(), 0, 'operators have no audit log');
    await operator.locator('#nav-notices').click();
    await operator.locator('#new-notice').waitFor();
    await operator.locator('#nav-map').click();
  });

  test('an admin sees the audit log, which records the logins, and nothing of reports or notices', async () => {
    const admin = await browser.page();
    await logIn(admin, 'adele', { ready: '#audit' });
    await admin.locator('#audit td', { hasText: 'logged in' }).first().waitFor();
    // Read as a log: the failed login of the first test, found by what happened.
    await admin.getByLabel('Action').selectOption({ label: 'failed login' });
    await admin.locator('#audit tbody tr', { hasText: 'failed login' }).first().waitFor();
    assert.equal(await admin.locator('#audit tbody tr', { hasText: 'logged in' }).count(), 0, 'only the chosen action');
    assert.equal(await admin.locator('#audit td', { hasText: '{"' }).count(), 0, 'no raw JSON');
    assert.equal(await admin.locator('#nav-map').count(), 0);
    assert.equal(await admin.locator('#nav-notices').count(), 0);
    assert.equal(await admin.locator('#new-notice').count(), 0);
    await screenshot(admin, '02-console-audit');
    await admin.context().close();
  });

  test('a report sent from the citizen page appears live on the console', async () => {
    citizen = await browser.page({ locale: 'it-IT', geolocation: MONTEVERDE, viewport: { width: 390, height: 844 } });
    await citizen.goto(HUB);
    await citizen.getByRole('button', { name: 'Usa la mia posizione' }).click();
    await citizen.locator('#place', { hasText: 'Monteverde' }).waitFor();
    await citizen.getByLabel('Allagamento').check();
    await citizen.getByLabel('Descrivi cosa hai visto').fill('Sottopasso di via Roma allagato');
    await citizen.getByRole('button', { name: 'Invia segnalazione' }).click();
    await citizen.locator('#send-status', { hasText: 'Ricevuta e registrata' }).waitFor();
    await citizen.locator('#my-reports .badge', { hasText: 'Ricevuta' }).waitFor();
    await screenshot(citizen, '03-citizen-report-sent');

    const row = operator.locator('.queue-row', { hasText: 'Sottopasso di via Roma allagato' });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'received');
    await operator.locator('#count-new strong', { hasText: '1' }).waitFor();
    await screenshot(operator, '04-console-live-report');
  });

  test('triaging the report reaches the citizen page with the public note only', async () => {
    await operator.locator('.queue-row', { hasText: 'Sottopasso di via Roma allagato' }).focus();
    await operator.keyboard.press('Enter');
    // Opening a report puts the keyboard in it: a few Tabs reach the triage form.
    await operator.waitForFunction(() => document.activeElement?.id === 'report-title');
    let presses = 0;
    while (presses < 10 && await operator.evaluate(() => document.activeElement?.id) !== 'triage-status') {
      await operator.keyboard.press('Tab');
      presses += 1;
    }
    assert.equal(await operator.evaluate(() => document.activeElement?.id), 'triage-status', `status choice not reached in ${presses} Tabs`);
    await operator.getByLabel('New status').selectOption('acknowledged');
    await operator.getByLabel('Note for the reporter').fill('Una squadra è in arrivo');
    await operator.getByLabel('Internal note').fill('chiamare il gestore della strada');
    await screenshot(operator, '05-console-report-detail');
    await operator.getByRole('button', { name: 'Apply' }).click();
    await operator.locator('#report-status', { hasText: 'Acknowledged' }).waitFor();
    await operator.setViewportSize({ width: 1024, height: 768 });
    await screenshot(operator, '05b-console-tablet');
    await operator.setViewportSize({ width: 1280, height: 800 });

    await citizen.locator('#my-reports .badge', { hasText: 'Presa in carico' }).waitFor();
    await citizen.locator('#my-reports', { hasText: 'Una squadra è in arrivo' }).waitFor();
    assert.doesNotMatch(await citizen.content(), /chiamare il gestore/, 'internal notes never reach the citizen');
    await citizen.reload();
    await citizen.locator('#my-reports', { hasText: 'Una squadra è in arrivo' }).waitFor();
    await screenshot(citizen, '06-citizen-report-acknowledged');
    // A cursor kept from before the office restored an older backup: the hub counts from 0,
    // and the page keeps the hub's cursor, so no later update is taken as already seen.
    await citizen.evaluate(() => localStorage.setItem('vedetta.cursor', '9000000000000000'));
    await citizen.reload();
    await citizen.waitForFunction(() => Number(localStorage.getItem('vedetta.cursor')) < 9000000000000000);
    await citizen.locator('#my-reports', { hasText: 'Una squadra è in arrivo' }).waitFor();
    const shown = (await citizen.locator('#my-reports').innerText()).split('Una squadra è in arrivo');
    assert.equal(shown.length - 1, 1, 'the replayed update is not listed twice');
  });

  test('a report\'s text is public in Open311 only after an operator confirms its publication', async () => {
    const publicText = async () => {
      const requests = await (await citizen.request.get(`${HUB}/open311/v2/requests.json`)).json();
      return requests.map((request) => request.description ?? '').join(' ');
    };
    assert.doesNotMatch(await publicText(), /Sottopasso/, 'not public by default');
    await operator.locator('.queue-row', { hasText: 'Sottopasso di via Roma allagato' }).click();
    operator.once('dialog', (dialog) => dialog.accept());
    await operator.locator('#publication-form').getByRole('button', { name: 'Publish the text' }).click();
    await operator.locator('#publication-form', { hasText: 'Text public until' }).waitFor();
    assert.match(await publicText(), /Sottopasso di via Roma allagato/);
    await operator.locator('#publication-form').getByRole('button', { name: 'Withdraw the publication' }).click();
    await operator.locator('#publication-form', { hasText: 'The text is not public' }).waitFor();
    assert.doesNotMatch(await publicText(), /Sottopasso/);
  });

  test('field devices show on the map with their state, and a team is sent from the report', async () => {
    await operator.locator('.device-pin', { hasText: 'tab-1 · online' }).waitFor();
    await operator.locator('.device-pin.device-lost', { hasText: 'tab-2 · LOST' }).waitFor();
    await operator.locator('.queue-row', { hasText: 'Sottopasso di via Roma allagato' }).click();
    await operator.getByLabel('Team', { exact: true }).selectOption('squadra-1');
    await operator.getByLabel('Instructions for the team').fill('Portare le pompe');
    await operator.getByRole('button', { name: 'Send', exact: true }).click();
    await operator.locator('.history li', { hasText: 'Team sent' }).waitFor();
    await screenshot(operator, '06b-console-dispatched');
  });

  test('the teams panel shows every team with its devices by state and its open tasks, one click from their report', async () => {
    await operator.locator('#nav-teams').click();
    const card = operator.locator('.team-card', { hasText: 'Squadra Monteverde' });
    await card.locator('.device-pin', { hasText: 'tab-1 · online' }).waitFor();
    await card.locator('.device-pin.device-lost', { hasText: 'tab-2 · LOST' }).waitFor();
    await card.locator('.team-tasks li', { hasText: 'Portare le pompe' }).locator('.badge', { hasText: 'sent' }).waitFor();
    await screenshot(operator, '06c-console-teams');
    await card.getByRole('button', { name: 'open the report' }).click();
    await operator.locator('#report-title', { hasText: 'Flooding' }).waitFor();
  });

  test('a notice drafted by one person and approved by another appears on the map and reaches the citizen', async () => {
    await operator.locator('#nav-notices').click();
    await operator.locator('#new-notice').click();
    await operator.getByLabel('Kind of message').selectOption('Actual');
    await operator.getByLabel('Weather').check();
    await operator.getByLabel('Urgency').selectOption('Immediate');
    await operator.getByLabel('Severity').selectOption('Severe');
    await operator.getByLabel('Certainty').selectOption('Likely');
    const italian = operator.locator('fieldset[lang=it]');
    await italian.getByLabel('Event').fill('Allerta idraulica');
    await italian.getByLabel('Headline').fill('Piena del Reno a Monteverde');
    await italian.getByLabel('What to do').fill('Allontanarsi dagli argini');
    const english = operator.locator('fieldset[lang=en]');
    await english.getByLabel('Event').fill('Flood warning');
    await english.getByLabel('Headline').fill('Reno river in flood at Monteverde');
    await english.getByLabel('What to do').fill('Keep away from the banks');
    await operator.getByRole('combobox', { name: 'Add a whole zone' }).fill('Monteverde');
    await operator.locator('#area-zone-search-list .place-option', { hasText: 'Monteverde' }).click();
    await operator.locator('#area-zones .zone-chip', { hasText: 'Monteverde' }).waitFor();
    await operator.locator('#covered-zones', { hasText: 'Monteverde' }).waitFor();
    await screenshot(operator, '07-console-notice-draft');
    await operator.getByRole('button', { name: 'Save draft' }).click();
    await operator.locator('.notice-review .real-banner').waitFor();
    assert.equal(await operator.locator('#approve-notice').count(), 0, 'an operator cannot approve');

    const approver = await browser.page();
    await logIn(approver, 'aldo');
    await approver.locator('#nav-notices').click();
    await approver.locator('.notice-row', { hasText: 'Reno river in flood at Monteverde' }).click();
    await approver.locator('#covered-zones, .notice-review', { hasText: 'Monteverde' }).first().waitFor();
    await screenshot(approver, '08-console-notice-review');
    await approver.locator('#approve-notice').click();
    const dialog = approver.locator('#approve-dialog');
    await dialog.getByRole('heading', { name: 'Publish a REAL ALERT?' }).waitFor();
    await dialog.locator('#confirm-approve').click();
    assert.equal(await dialog.isVisible(), true, 'a real alert needs the statement ticked');
    await dialog.getByLabel(/real emergency/).check();
    await screenshot(approver, '09-console-approve-real');
    await dialog.locator('#confirm-approve').click();
    await approver.locator('.notice-review .badge', { hasText: 'Published' }).waitFor();

    await operator.locator('#nav-map').click();
    await operator.locator('.notice-label', { hasText: 'Severe' }).waitFor();
    await screenshot(operator, '10-console-map-notice');
    await citizen.locator('.notice-card', { hasText: 'Piena del Reno a Monteverde' }).waitFor();
    await citizen.locator('.notice-card .instruction', { hasText: 'Allontanarsi dagli argini' }).waitFor();
    await screenshot(citizen, '11-citizen-notice');
    await approver.context().close();
  });

  test('a published notice shows its outbox deliveries, and an operator retries the failed ones', async () => {
    // The hub under test has one webhook, whose receiver refuses every delivery (405).
    await operator.locator('#nav-notices').click();
    await operator.locator('.notice-row', { hasText: 'Reno river in flood at Monteverde' }).click();
    await operator.locator('.notice-outbox', { hasText: 'Webhooks: 1 failed' }).waitFor();
    await screenshot(operator, '11b-console-notice-outbox');
    await operator.locator('#retry-deliveries').click();
    await operator.locator('#flash', { hasText: '1 deliveries queued again' }).waitFor();
    await operator.locator('#nav-map').click();
  });

  test('a test notice escalated from the report is marked as not real at every step', async () => {
    await operator.locator('.queue-row', { hasText: 'Sottopasso di via Roma allagato' }).click();
    await operator.locator('#escalate-status').selectOption('Test');
    await operator.getByRole('button', { name: 'Open the draft' }).click();
    await operator.locator('.notice-review.not-real .not-real-banner', { hasText: 'TEST — not a real emergency' }).waitFor();
    // The draft says it must be written before approval; the hub refuses it until it is.
    await operator.locator('#edit-notice').click();
    await operator.locator('fieldset[lang=it]').getByLabel('Description').fill('Sottopasso di via Roma allagato: non attraversarlo.');
    await operator.locator('fieldset[lang=en]').getByLabel('Description').fill('Via Roma underpass flooded: do not cross it.');
    await operator.getByRole('button', { name: 'Save draft' }).click();
    await operator.locator('.notice-review.not-real .not-real-banner', { hasText: 'TEST — not a real emergency' }).waitFor();

    const approver = await browser.page();
    await logIn(approver, 'aldo');
    await approver.locator('#nav-notices').click();
    const row = approver.locator('.notice-row[data-status=Test]');
    await row.locator('.badge.not-real', { hasText: 'TEST' }).waitFor();
    await row.click();
    await approver.locator('#approve-notice').click();
    const dialog = approver.locator('#approve-dialog');
    await dialog.getByRole('heading', { name: 'Publish a TEST?' }).waitFor();
    assert.equal(await dialog.locator('#confirm-real').count(), 0, 'a test is never confirmed like a real alert');
    assert.equal(await dialog.locator('#confirm-approve').textContent(), 'Publish the test');
    await dialog.locator('#confirm-approve').click();
    await approver.locator('.notice-review .badge', { hasText: 'Published' }).waitFor();
    await approver.context().close();

    await citizen.locator('.notice-card.not-real .not-real-banner', { hasText: 'PROVA' }).waitFor();
    await screenshot(citizen, '12-citizen-test-notice');
  });

  test('the citizen page offers notices by push and by e-mail for the place it shows', async () => {
    // axe-core is injected as an inline script, which the page's own policy rightly refuses.
    const page = await browser.page({ locale: 'it-IT', geolocation: MONTEVERDE, viewport: { width: 390, height: 844 }, bypassCSP: true });
    await page.goto(HUB);
    await page.getByRole('button', { name: 'Usa la mia posizione' }).click();
    await page.locator('#place', { hasText: 'Monteverde' }).waitFor();
    await page.getByRole('heading', { name: 'Ricevi gli avvisi anche a pagina chiusa' }).waitFor();
    await page.getByRole('button', { name: 'Ricevi gli avvisi per questa zona' }).waitFor();
    await page.getByLabel('Oppure per e-mail').fill('maria@example.org');
    await page.getByRole('button', { name: 'Iscriviti' }).click();
    await page.locator('#mail-status', { hasText: 'apri il link nel messaggio per confermare' }).waitFor();
    assert.deepEqual(await accessibilityProblems(page), [], 'the sign-up passes axe-core');
    await screenshot(page, '12b-citizen-alerts');
    await page.close();
  });

  test('the citizen page switches to English', async () => {
    await citizen.getByLabel('Lingua / Language').selectOption('en');
    await citizen.getByRole('heading', { name: 'Report a problem' }).waitFor();
    await citizen.locator('.notice-card', { hasText: 'Reno river in flood at Monteverde' }).waitFor();
    await screenshot(citizen, '13-citizen-english');
  });

  test('the office basemap is read by range requests and drawn under the zones', async () => {
    const page = await browser.page({ locale: 'it-IT', geolocation: MONTEVERDE });
    const ranges = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/tiles/basemap.pmtiles')) ranges.push(response.status());
    });
    await page.goto(HUB);
    await mapDrawn(page);
    await page.waitForFunction(() => [...document.querySelectorAll('#map .basemap-layer canvas')].some((canvas) => {
      if (!canvas.width || !canvas.height) return false;
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha]) return true;
      return false;
    }));
    assert.ok(ranges.length > 0 && ranges.every((status) => status === 206), `basemap answers: ${ranges}`);
    await screenshot(page, '14-citizen-basemap');
    await page.context().close();
  });

  test('a cancellation reads as one: prefilled as such, listed as such, and offering no update or cancel', async () => {
    await operator.locator('#nav-notices').click();
    await operator.locator('.notice-row', { hasText: /Reno/ }).first().click();
    await operator.locator('#cancel-notice').click();
    const italian = operator.locator('fieldset[lang=it]');
    const description = italian.getByLabel('Description');
    await description.waitFor();
    assert.match(await description.inputValue(), /^Revoca: Piena del Reno a Monteverde/);
    assert.equal(await italian.getByLabel('What to do').inputValue(), '', 'the old advice is not carried over');
    await description.fill('Revoca: il Reno è rientrato negli argini.');
    await operator.getByRole('button', { name: 'Save draft' }).click();
    await operator.locator('.notice-review .cancel-banner').waitFor();

    const approver = await browser.page();
    await logIn(approver, 'aldo');
    await approver.locator('#nav-notices').click();
    await approver.locator('.notice-row', { has: approver.locator('.badge.cancellation') }).first().click();
    await approver.locator('#approve-notice').click();
    const dialog = approver.locator('#approve-dialog');
    await dialog.getByLabel(/real emergency/).check();
    await dialog.locator('#confirm-approve').click();
    await approver.locator('.notice-review .badge', { hasText: 'Published' }).waitFor();
    await approver.locator('.notice-review .cancel-banner').waitFor();
    await approver.locator('.notice-label.cancellation', { hasText: 'CANCELLATION' }).waitFor();
    assert.equal(await approver.locator('#update-notice, #cancel-notice').count(), 0, 'a cancellation is not updated or cancelled');
    await screenshot(approver, '15-console-cancellation');
    await approver.context().close();
    await citizen.locator('.notice-card.cancelled').waitFor();
    await screenshot(citizen, '16-citizen-cancelled');
  });

  test('losing the hub greys the console out under a banner saying since when, and it comes back live', async () => {
    await operator.locator('#nav-map').click();
    await operator.context().setOffline(true);
    const banner = operator.locator('#stale-banner', { hasText: 'Connection to the hub lost since' });
    await banner.waitFor();
    await operator.locator('.console.stale').waitFor();
    assert.equal(await operator.locator('#detail').evaluate((detail) => detail.inert), true, 'no action while nothing reaches the hub');
    await screenshot(operator, '17-console-stale');
    await operator.context().setOffline(false);
    await operator.locator('#connection.online').waitFor();
    await banner.waitFor({ state: 'hidden' });
    assert.equal(await operator.locator('.console.stale').count(), 0);
  });

  test('a report of people in danger leads the queue, counts in the title and can be muted', async () => {
    await operator.locator('#nav-map').click();
    const sent = await fetch(`${HUB}/api/v1/reports`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_ref: 'urgent-1', category: 'people_at_risk', text: 'Anziana bloccata in casa al piano terra', lat: MONTEVERDE.latitude, lon: MONTEVERDE.longitude }),
    });
    assert.equal(sent.status, 201);
    const first = operator.locator('#queue li').first().locator('.queue-row');
    await first.and(operator.locator('.urgent', { hasText: 'People at risk' })).waitFor();
    assert.match(await first.locator('.time-left').textContent(), /take in hand within \d+ (min|h)/);
    await operator.waitForFunction(() => /^\(\d+\) /.test(document.title));
    const mute = operator.locator('#mute-alerts');
    assert.equal(await mute.getAttribute('aria-pressed'), 'false');
    await mute.click();
    assert.equal(await mute.getAttribute('aria-pressed'), 'true');
    await operator.getByRole('checkbox', { name: /Choose: People at risk/ }).check();
    await operator.getByLabel('Message to all their reporters').fill('I soccorsi sono stati avvisati');
    await screenshot(operator, '18-console-urgent');
    await operator.locator('#bulk-acknowledge', { hasText: 'Take the 1 chosen reports in hand' }).click();
    await operator.locator('.queue-row[data-status=acknowledged]', { hasText: 'Anziana bloccata' }).waitFor();
    await operator.waitForFunction(() => !/^\(\d+\) /.test(document.title));
  });

  test('drawing an area, a click on a report cluster is a corner, not a zoom, and a wrong corner can be taken back', async () => {
    await operator.locator('#nav-notices').click();
    await operator.locator('#new-notice').click();
    await operator.locator('#draw-polygon').click();
    const map = operator.locator('#map');
    const zoom = await map.getAttribute('data-zoom');
    const box = await map.boundingBox();
    const marker = await operator.locator('#map .marker-cluster').first().boundingBox();
    const corners = [
      [marker.x + marker.width / 2, marker.y + marker.height / 2],
      [box.x + box.width * 0.8, box.y + box.height * 0.5],
      [box.x + box.width * 0.2, box.y + box.height * 0.8],
    ];
    for (const [x, y] of corners) await operator.mouse.click(x, y);
    const hint = operator.locator('.area-editor .hint', { hasText: 'Corners: 3.' });
    await hint.waitFor().catch(async (err) => {
      throw new Error(`${err.message}\nhints: ${await operator.locator('.area-editor .hint').allTextContents()}`);
    });
    assert.equal(await map.getAttribute('data-zoom'), zoom, 'the cluster did not zoom the map');
    await operator.locator('#undo-point').click();
    await operator.locator('.area-editor .hint', { hasText: 'Corners: 2.' }).waitFor();
    await operator.mouse.click(...corners[2]);
    await operator.locator('#finish-polygon').click();
    await operator.locator('#covered-zones', { hasText: 'Monteverde' }).waitFor();
    await screenshot(operator, '19-console-drawing');
  });

  test('the queue finds reports by their words, accents and case aside, and keeps its filters across a reload', async () => {
    await operator.locator('#nav-map').click();
    const search = operator.getByLabel('Search the text or an id');
    await search.fill('SOTTOPASSO ROMA');
    await operator.locator('#queue-count', { hasText: /^1 of \d+/ }).waitFor();
    await operator.locator('.queue-row', { hasText: 'Sottopasso di via Roma allagato' }).waitFor();
    await operator.reload();
    await operator.locator('#connection.online').waitFor();
    assert.equal(await operator.getByLabel('Search the text or an id').inputValue(), 'SOTTOPASSO ROMA');
    await operator.locator('#queue-count', { hasText: /^1 of \d+/ }).waitFor();
    await operator.getByLabel('Search the text or an id').fill('');
  });

  test('every console screen passes axe-core without a serious or critical finding, the legend included', async () => {
    const page = await browser.page({ bypassCSP: true });
    await logIn(page, 'olga');
    await mapDrawn(page);
    await page.locator('#legend summary').click();
    await page.locator('#legend', { hasText: 'LOST' }).waitFor();
    const screens = [];
    screens.push(['map with legend', await accessibilityProblems(page)]);
    await screenshot(page, '20-console-legend');
    await page.locator('.queue-row').first().click();
    await page.locator('#report-title').waitFor();
    screens.push(['report', await accessibilityProblems(page)]);
    // Printed, a report is its map and its facts: no queue, no buttons, no forms.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('#panel').isVisible(), false, 'no queue on paper');
    assert.equal(await page.locator('#print-report').isVisible(), false, 'no buttons on paper');
    assert.ok(await page.locator('#report-title').isVisible() && await page.locator('#map').isVisible());
    await screenshot(page, '21-console-report-printed');
    await page.emulateMedia({ media: 'screen' });
    await page.locator('#nav-notices').click();
    await page.locator('.notice-row').first().click();
    await page.locator('.notice-review').waitFor();
    screens.push(['notice review', await accessibilityProblems(page)]);
    await page.locator('#new-notice').click();
    await page.locator('#draw-polygon').waitFor();
    screens.push(['notice form', await accessibilityProblems(page)]);
    await page.locator('#nav-teams').click();
    await page.locator('.team-card').first().waitFor();
    screens.push(['teams', await accessibilityProblems(page)]);
    await page.context().close();

    const admin = await browser.page({ bypassCSP: true });
    await logIn(admin, 'adele', { ready: '#audit tbody tr:first-child' });
    screens.push(['audit log', await accessibilityProblems(admin)]);
    await admin.context().close();
    assert.deepEqual(screens.filter(([, problems]) => problems.length), []);
  });

  test('an incident is split, merged back and resolved from the report, every reporter told', async () => {
    await operator.locator('#nav-map').click();
    const sent = await fetch(`${HUB}/api/v1/reports`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_ref: 'same-water-1', category: 'flooding', text: 'Acqua alta anche in piazza', lat: MONTEVERDE.latitude + 0.001, lon: MONTEVERDE.longitude }),
    });
    assert.equal(sent.status, 201);
    await operator.locator('.queue-row', { hasText: 'Acqua alta anche in piazza' }).click();
    const title = operator.locator('#incident-title');
    await title.filter({ hasText: 'Incident: 2 reports' }).waitFor();
    await operator.locator('#incident-split').click();
    await title.filter({ hasText: 'Incident: 1 reports' }).waitFor();
    await operator.locator('#incident-merge-button').click();
    await title.filter({ hasText: 'Incident: 2 reports' }).waitFor();
    await operator.getByLabel('Note for every reporter').fill("L'acqua è defluita");
    await screenshot(operator, '22-console-incident');
    await operator.locator('#incident-resolve').click();
    await operator.locator('#report-status', { hasText: 'Resolved' }).waitFor();
    await operator.locator('.queue-row[data-status=resolved]', { hasText: 'Sottopasso di via Roma allagato' }).waitFor();
  });
});
