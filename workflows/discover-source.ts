// Discovers new files of one ingest source (S3 prefix, SFTP directory, API URL) and admits each as a packet with its ingest.
import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AdmitResult } from '../activities/sources';

export interface DiscoveryTotals {
  /** entries seen in the listing (or API answers fetched) */
  listed: number;
  /** new files that became packets (their ingest started) */
  admitted: number;
  /** files already packets, or not matching the glob */
  skipped: number;
  failed: number;
  /** the first few failures: file name and reason */
  failures: { file: string; error: string }[];
  /** uuids of the first packets admitted, for the operator's summary */
  packets: string[];
}

export interface DiscoverSourceInput {
  sourceUuid: string;
  /** an S3 or SFTP listing continues here after continue-as-new */
  continuationToken?: string;
  /** listing pages (of up to 1,000 keys or files) one run handles before it continues as new (default 20) */
  pagesPerRun?: number;
  totals?: DiscoveryTotals;
}

const discovery = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

// copies stream whole files: long, heartbeating their upload's parts; a retry continues from the last part heartbeated
const copying = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

const PAGES_PER_RUN = 20;
const PARALLEL_COPIES = 4;
const KEPT = 20;

function failureReason(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

async function admitAll<T>(
  items: T[],
  name: (item: T) => string,
  admit: (item: T) => Promise<AdmitResult>,
  totals: DiscoveryTotals,
): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL_COPIES) {
    const batch = items.slice(i, i + PARALLEL_COPIES);
    const results = await Promise.allSettled(batch.map(admit));
    results.forEach((result, j) => {
      if (result.status === 'fulfilled') {
        if (result.value.created) {
          totals.admitted += 1;
          if (totals.packets.length < KEPT) totals.packets.push(result.value.packetUuid);
        } else totals.skipped += 1;
      } else {
        totals.failed += 1;
        if (totals.failures.length < KEPT)
          totals.failures.push({ file: name(batch[j]!), error: failureReason(result.reason) });
      }
    });
  }
}

interface Pager<T> {
  list(continuationToken: string | undefined): Promise<{ objects: T[]; listed: number; nextToken?: string }>;
  name(item: T): string;
  admit(item: T): Promise<AdmitResult>;
}

/**
 * Lists page after page, admitting each page's new files before the next; every run handles a bounded
 * number of pages and continues as new with the next page's token and the totals so far, so neither
 * an activity result nor the history grows with the directory.
 */
async function pageThrough<T>(
  input: DiscoverSourceInput,
  totals: DiscoveryTotals,
  pager: Pager<T>,
): Promise<void> {
  let token = input.continuationToken;
  for (let page = 1; ; page += 1) {
    const listing = await pager.list(token);
    totals.listed += listing.listed;
    totals.skipped += listing.listed - listing.objects.length;
    await admitAll(listing.objects, pager.name, pager.admit, totals);
    if (!listing.nextToken) return;
    token = listing.nextToken;
    if (page >= (input.pagesPerRun ?? PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof discoverSource>({
        sourceUuid: input.sourceUuid,
        continuationToken: token,
        totals,
        pagesPerRun: input.pagesPerRun,
      });
    }
  }
}

/** A source that cannot be listed or fetched fails the discovery with the activity's own reason and type, not "activity failed". */
export async function discoverSource(input: DiscoverSourceInput): Promise<DiscoveryTotals> {
  try {
    return await discover(input);
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      throw ApplicationFailure.create({
        message: err.cause.message,
        type: err.cause.type ?? undefined,
        nonRetryable: true,
        details: err.cause.details as unknown[],
        cause: err,
      });
    }
    throw err;
  }
}

async function discover(input: DiscoverSourceInput): Promise<DiscoveryTotals> {
  const totals: DiscoveryTotals = input.totals ?? {
    listed: 0,
    admitted: 0,
    skipped: 0,
    failed: 0,
    failures: [],
    packets: [],
  };
  const { sourceUuid } = input;
  const source = await discovery.describeSource({ sourceUuid });
  if (!source.active) return totals;

  if (source.kind === 's3') {
    await pageThrough(input, totals, {
      list: (continuationToken) => discovery.listNewS3Objects({ sourceUuid, continuationToken }),
      name: (o) => o.key,
      admit: (o) => copying.admitS3Object({ sourceUuid, ...o }),
    });
  } else if (source.kind === 'sftp') {
    await pageThrough(input, totals, {
      list: (continuationToken) => discovery.listNewSftpFiles({ sourceUuid, continuationToken }),
      name: (f) => f.path,
      admit: (f) => copying.admitSftpFile({ sourceUuid, ...f }),
    });
  } else if (source.kind === 'api') {
    // one answer per run: a refused fetch fails the discovery with its own reason (HttpStatus, WrongContentType...)
    totals.listed += 1;
    const pulled = await copying.pullApiSource({ sourceUuid });
    if (pulled.created) {
      totals.admitted += 1;
      totals.packets.push(pulled.packetUuid);
    } else totals.skipped += 1;
  }

  if (totals.failed > 0) {
    const shown = totals.failures.map((f) => `${f.file}: ${f.error}`).join('; ');
    throw ApplicationFailure.nonRetryable(
      `${totals.failed} of ${totals.admitted + totals.failed} new files of source ${source.companyAlias}/${source.name} could not be taken in: ${shown}`,
      'DiscoveryIncomplete',
      totals,
    );
  }
  return totals;
}
