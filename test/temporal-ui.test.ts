import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { PROJECT_ROOT } from '../lib/config';
import { createTestCompany, csv, daysFromNow, EHR_HEADER, ingestFile } from './support/ingest';
import { openTestApp, startTestWorker, type TestWorker } from './support/harness';

// The real Temporal Web UI of the test run's dev server, driven in Debian's headless Chromium.
// The UI renders after its own API calls: every check polls, with room for a busy machine.
const UI = process.env.TEMPORAL_UI_URL;
const SHOTS = path.join(PROJECT_ROOT, 'test-output');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

let app: App;
let worker: TestWorker;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  app = await openTestApp();
  worker = await startTestWorker(app);
  await mkdir(SHOTS, { recursive: true });
  profile = await mkdtemp(path.join(os.tmpdir(), 'herald-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1600, height: 1000 },
  });
});
afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await worker?.stop();
  await app?.close();
});

describe.skipIf(!UI)('the Temporal Web UI', () => {
  it('finds an ingest workflow by CompanyAlias with a query typed into the UI, with its summary and search attributes', async () => {
    const company = await createTestCompany(app, { prefix: 'ui' });
    const file = csv(EHR_HEADER, [
      [
        'P1',
        'Ada',
        'Lovelace',
        '(617) 555-0101',
        '',
        'ada@example.com',
        daysFromNow(5),
        '09:30',
        'A1',
        'scheduled',
        'Dr Who',
        'Main',
        '02139',
        'MA',
        '',
      ],
      [
        'P2',
        'Alan',
        'Turing',
        '(617) 555-0102',
        '',
        '',
        daysFromNow(6),
        '10:00',
        'A2',
        'scheduled',
        'Dr Who',
        'Main',
        '02139',
        'MA',
        '',
      ],
    ]);
    const ingest = await ingestFile(app, worker.taskQueue, company, 'ui-appointments.csv', file);
    expect(ingest.summary.stage).toBe('done');

    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${UI}/namespaces/${app.temporal.namespace}/workflows`, { waitUntil: 'networkidle' });
    await page.getByTestId('toggle-manual-query').click();
    const query = page.getByTestId('manual-search-input');
    await query.fill(`CompanyAlias = '${company.alias}'`);
    await query.press('Enter');
    // visibility is eventually consistent: the row appears once the close is indexed
    const row = page.getByRole('link', { name: ingest.workflowId, exact: true });
    await expect
      .poll(
        async () => {
          if (await row.count()) return true;
          await page.reload({ waitUntil: 'networkidle' });
          return false;
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBe(true);
    expect(new URL(page.url()).searchParams.get('query')).toBe(`CompanyAlias = '${company.alias}'`);
    await expect.poll(() => page.locator('table tbody tr').count(), { timeout: 15_000 }).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'temporal-ui-ingest-by-company.png') });

    await row.click();
    await page.waitForURL(/\/workflows\/ingest%2F/);
    // the UI renders summaries (markdown) in a sandboxed frame of their own, so every frame's text is read;
    // a click before the page has hydrated is lost, so the tab is clicked until its content shows
    const allText = async () =>
      (
        await Promise.all(
          page.frames().map((f) =>
            f
              .locator('body')
              .innerText()
              .catch(() => ''),
          ),
        )
      ).join('\n');
    await expect
      .poll(
        async () => {
          await page.getByRole('tab', { name: 'User Metadata' }).click();
          return allText();
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toContain(`Ingest of ui-appointments.csv for ${company.alias}`);
    // the ingest's current details: stage, file and counts
    await expect
      .poll(allText, { timeout: 20_000 })
      .toMatch(/done ui-appointments\.csv\s+rows read 2, loaded 2, rejected 0/);
    await page.screenshot({ path: path.join(SHOTS, 'temporal-ui-ingest-summary.png') });

    const attributes = page.locator('main');
    await expect
      .poll(
        async () => {
          await page.getByRole('tab', { name: 'Search Attributes' }).click();
          // the attributes' JSON, not the page title (which holds the packet id too)
          return (await attributes.innerText()).includes('PacketStage');
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe(true);
    const text = await attributes.innerText();
    expect(text).toContain(`"CompanyAlias": "${company.alias}"`);
    expect(text).toContain(`"PacketId": "${ingest.packet.uuid}"`);
    expect(text).toContain('"PacketStage": "done"');
    expect(text).not.toContain('Lovelace');
    await page.screenshot({ path: path.join(SHOTS, 'temporal-ui-ingest-search-attributes.png') });
  });
});
