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
const UI = process.env.TEMPORAL_UI_URL;
const SHOTS = path.join(PROJECT_ROOT, 'test-output');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
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
      ['P1', 'Ada', 'Lovelace', '(617) 555-0101', '', 'ada@example.com', daysFromNow(5), '09:30', 'A1', 'scheduled', 'Dr Who', 'Main', '02139', 'MA', ''],
      ['P2', 'Alan', 'Turing', '(617) 555-0102', '', '', daysFromNow(6), '10:00', 'A2', 'scheduled', 'Dr Who', 'Main', '02139', 'MA', ''],
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
    await expect.poll(async () => {
      if (await row.count()) return true;
      await page.reload({ waitUntil: 'networkidle' });
      return false;
    }, { timeout: 30_000, interval: 1_000 }).toBe(true);
    expect(new URL(page.url()).searchParams.get('query')).toBe(`CompanyAlias = '${company.alias}'`);
    await expect.poll(() => page.locator('table tbody tr').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'temporal-ui-ingest-by-company.png') });

    await row.click();
    await page.waitForURL(/\/workflows\/ingest%2F/);
    await page.getByText('User Metadata', { exact: true }).click();
    await expect.poll(() => page.getByText(`Ingest of ui-appointments.csv for ${company.alias}`).count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'temporal-ui-ingest-summary.png') });

    await page.getByText('Search Attributes', { exact: true }).click();
    const attributes = page.locator('main');
    await expect.poll(async () => (await attributes.innerText()).includes(ingest.packet.uuid)).toBe(true);
    const text = await attributes.innerText();
    expect(text).toContain('CompanyAlias');
    expect(text).toContain(company.alias);
    expect(text).toContain('PacketStage');
    expect(text).not.toContain('Lovelace');
    await page.screenshot({ path: path.join(SHOTS, 'temporal-ui-ingest-search-attributes.png') });
  });
});
