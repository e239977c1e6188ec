// `npm start`'s ingest: each bundled sample in loadmaps/samples goes in as an upload of its load map's company.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { App } from '../lib/app';
import { startPacketIngest } from '../lib/ingest/start-ingest';
import { formatPacketSummary, readPacketSummary } from '../lib/ingest/summary';
import { LOADMAPS_DIR, readLoadMapFile } from '../lib/load-maps/files';
import { uploadFile } from '../lib/sources/upload-file';
import { workflowUiUrl } from '../lib/temporal';

export const SAMPLES_DIR = path.join(LOADMAPS_DIR, 'samples');

/** A sample belongs to the load-map file its name starts with (demo-clinic-ehr-appointments.csv: demo-clinic-ehr.json). */
async function samplesWithMaps(): Promise<{ file: string; company: string; map: string }[]> {
  const mapFiles = (await readdir(LOADMAPS_DIR)).filter((f) => f.endsWith('.json'));
  const samples = (await readdir(SAMPLES_DIR)).filter((f) => !f.startsWith('.')).sort();
  const found = [];
  for (const sample of samples) {
    const owner = mapFiles
      .filter(
        (m) =>
          sample.startsWith(`${m.slice(0, -'.json'.length)}-`) ||
          sample.startsWith(`${m.slice(0, -'.json'.length)}.`),
      )
      .sort((a, b) => b.length - a.length)[0];
    if (!owner) continue;
    const map = await readLoadMapFile(path.join(LOADMAPS_DIR, owner));
    if (map.company)
      found.push({ file: path.join(SAMPLES_DIR, sample), company: map.company, map: map.name });
  }
  return found;
}

export interface IngestedSamples {
  lines: string[];
  /** the samples' packets: the rows the demo may play with */
  packetUuids: string[];
}

/**
 * Uploads each sample (one packet per content, so a second start finds the packets of the first),
 * waits for its ingest on the pipeline queue and returns the summary lines to print.
 */
export async function ingestSamples(app: App): Promise<IngestedSamples> {
  const client = await app.client();
  const lines: string[] = [];
  const packetUuids: string[] = [];
  for (const sample of await samplesWithMaps()) {
    const outcome = await uploadFile(
      {
        sql: app.sql,
        s3: app.s3,
        bucket: app.bucket,
        startIngest: async (packet, companyAlias) => ({
          workflowId: (await startPacketIngest(client, { packet, companyAlias })).workflowId,
        }),
      },
      { file: sample.file, companyAlias: sample.company, loadMap: sample.map, actor: app.config.actor },
    );
    if (outcome.ingestWorkflowId) {
      // a failed ingest is reported by its packet's summary below, not thrown
      await client.workflow
        .getHandle(outcome.ingestWorkflowId)
        .result()
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowFailedError)) throw err;
        });
    }
    packetUuids.push(outcome.packetUuid);
    const summary = await readPacketSummary(app.sql, outcome.packetUuid);
    if (!summary) continue;
    lines.push(...formatPacketSummary(summary, app.bucket));
    const link = outcome.ingestWorkflowId ? workflowUiUrl(app.temporal, outcome.ingestWorkflowId) : undefined;
    if (link) lines.push(`  workflow    ${link}`);
  }
  return { lines, packetUuids };
}
