// The byte caps of HTTPS and SFTP sources, met by a worker process: an answer that never ends and a file
// over its source's maxFileMB are refused while they stream, once, and nothing of them is kept.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { startDiscovery } from '../../../lib/sources/run-discovery';
import { saveSource } from '../../../lib/sources/store';
import type { IngestSourceInput } from '../../../schemas/ingest-source';
import { startHttpFeed } from '../../standins/http-feed';
import { startSftpStandin } from '../../standins/sftp';
import { createTestCompany } from '../../support/ingest';
import { ZERO, addCounts, type ChaosCounts, type ChaosScenario } from '../support/counts';
import {
  createIngestHost,
  leftInTmp,
  removeRunTmp,
  startIngestWorker,
  withWorldS3,
} from '../support/ingest-run';
import { waitingFor } from '../support/waits';
import { chaosWorld, type ChaosWorld } from '../support/world';

const PASSWORD_ENV = 'HERALD_SECRET_CHAOS_SFTP_PASSWORD';

interface Cap {
  name: string;
  config: Omit<IngestSourceInput, 'name' | 'loadMap'>;
  /** the discovery's failure */
  fails: RegExp;
  /** how many times the source was asked for the file */
  asked(): number;
}

export const scenario: ChaosScenario = {
  name: 'ingest-source-caps',
  short: true,
  timeoutSeconds: 300,
  async run() {
    const world = await chaosWorld();
    const root = await mkdtemp(path.join(os.tmpdir(), 'herald-chaos-sftp-'));
    await mkdir(path.join(root, 'big'));
    // 2.4 MB against a cap of 1 MB
    await writeFile(path.join(root, 'big', 'roster.csv'), 'Patient ID\r\n' + 'P1\r\n'.repeat(600_000));
    const [feed, sftp] = await Promise.all([
      startHttpFeed(),
      startSftpStandin({ root, username: 'feed', password: 'right' }),
    ]);
    feed.routes.set('/endless', {
      contentType: 'text/csv',
      body: 'Patient ID\r\n'.repeat(1000),
      endless: true,
    });
    const host = await createIngestHost();
    const worker = await startIngestWorker(world, host, { [PASSWORD_ENV]: 'right' });
    const caps: Cap[] = [
      {
        name: 'an HTTPS answer that never ends',
        config: { kind: 'api', config: { url: `${feed.url}/endless`, format: 'csv', maxFileMB: 1 } },
        fails: /is larger than 1 MB, the most one file of this source may have \(maxFileMB of source /,
        asked: () => feed.requests.filter((r) => r.path === '/endless').length,
      },
      {
        name: 'an SFTP file over its source maxFileMB',
        config: {
          kind: 'sftp',
          config: {
            host: sftp.host,
            port: sftp.port,
            username: 'feed',
            passwordEnv: PASSWORD_ENV,
            hostKeySha256: sftp.fingerprint,
            directory: '/big',
            glob: '*.csv',
            maxFileMB: 1,
          },
        },
        fails:
          /roster\.csv is 2 MB, over 1 MB, the most one file of this source may have \(maxFileMB of source/,
        asked: () => sftp.log.opened.length,
      },
    ] as Cap[];
    let total = ZERO;
    try {
      for (const cap of caps) total = addCounts(total, await refused(world, host, cap));
      total.stuck += (await leftInTmp(host)).length;
    } finally {
      await worker.stop();
      await removeRunTmp(host);
      await Promise.all([feed.close(), sftp.close()]);
      await rm(root, { recursive: true, force: true });
    }
    return total;
  },
};

/** Runs the source's discovery to its failure and counts what a refused file must not leave. */
async function refused(world: ChaosWorld, host: { queue: string }, cap: Cap): Promise<ChaosCounts> {
  const company = await createTestCompany({ sql: world.sql }, { prefix: 'chaos' });
  const { source } = await saveSource(
    world.sql,
    company.alias,
    { name: `cap-${cap.config.kind}`, loadMap: 'ehr', ...cap.config } as IngestSourceInput,
    'chaos',
  );
  const handle = await startDiscovery(world.client, source, { taskQueue: host.queue });
  waitingFor(`discovery ${handle.workflowId} (${cap.name}) to end`);
  let error = '';
  try {
    await handle.result();
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    error = err.cause?.message ?? err.message;
  }
  if (error && !cap.fails.test(error)) throw new Error(`${cap.name}: failed with another error: ${error}`);
  const [packets] = await world.sql<{ n: number }[]>`
    select count(*)::int as n from data_packets where source_id = ${source.id}`;
  const prefix = `raw/${company.alias}/`;
  const kept = await withWorldS3(world, async (s3) => {
    const bucket = world.env.S3_BUCKET!;
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    return (objects.Contents ?? []).length + (uploads.Uploads ?? []).length;
  });
  const counts: ChaosCounts = {
    // refused on the first read, never fetched again by a retry
    duplicates: Math.max(0, cap.asked() - 1),
    // a packet or object of a refused file is half-kept
    lost: packets!.n + kept,
    wrong_tenant: 0,
    stuck: error ? 0 : 1,
  };
  if (counts.duplicates + counts.lost + counts.stuck > 0)
    console.log(`  ${cap.name}: ${JSON.stringify({ ...counts, error })}`);
  return counts;
}
