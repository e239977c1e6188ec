// Nightly archive: final messages past each company's retention to history (exported to S3 first), old logs, deliveries and packet files purged, histories exported.
import {
  continueAsNew,
  defineQuery,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArchivePlan } from '../activities/archive';

export interface ArchiveTotals {
  companies: number;
  batches: number;
  messages: number;
  updates: number;
  objects: number;
  bytes: number;
  packetEvents: number;
  auditRows: number;
  webhookDeliveries: number;
  /** packets whose raw file, rejects report and rejected rows were deleted past retention */
  packetFiles: number;
  rejectedRows: number;
  histories: number;
}

export interface ArchiveInput {
  /** the instant retention is measured from; unset = when the workflow started */
  now?: string;
  /** only this company (its logs too; shared audit rows are left alone) */
  companyAlias?: string;
  /** messages per batch (one transaction, one S3 object per day in it) */
  batchSize?: number;
  /** batches before the workflow continues as new, keeping each run's history small (default 200) */
  batchesPerRun?: number;
  /** export finished workflow histories to S3 (default true) */
  exportHistories?: boolean;
  /** carried across continue-as-new */
  state?: { plan: ArchivePlan; index: number; totals: ArchiveTotals };
}

export interface ArchiveProgress {
  step: string;
  company?: string;
  companiesDone: number;
  companiesTotal: number;
  totals: ArchiveTotals;
}

export const archiveProgressQuery = defineQuery<ArchiveProgress>('progress');

const quick = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 10 },
});

// a batch holds one transaction open while its S3 objects are written
const moving = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
  },
});

const long = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
});

const HISTORIES_PER_NIGHT = 2_000;
/** The patch that added each company's packet file purge to the nightly run. */
const PACKET_FILE_RETENTION = 'packet-file-retention';

export const emptyArchiveTotals = (): ArchiveTotals => ({
  companies: 0,
  batches: 0,
  messages: 0,
  updates: 0,
  objects: 0,
  bytes: 0,
  packetEvents: 0,
  auditRows: 0,
  webhookDeliveries: 0,
  packetFiles: 0,
  rejectedRows: 0,
  histories: 0,
});

export async function archiveMessages(input: ArchiveInput = {}): Promise<ArchiveTotals> {
  const batchSize = input.batchSize ?? 500;
  const plan =
    input.state?.plan ??
    (await quick.planArchive({
      now: input.now ?? new Date(workflowInfo().startTime).toISOString(),
      companyAlias: input.companyAlias,
    }));
  const totals = input.state?.totals ?? emptyArchiveTotals();
  let index = input.state?.index ?? 0;
  let step = 'moving messages';
  setHandler(archiveProgressQuery, () => ({
    step,
    company: plan.companies[index]?.companyAlias,
    companiesDone: index,
    companiesTotal: plan.companies.length,
    totals,
  }));

  let batchesThisRun = 0;
  for (; index < plan.companies.length; index++) {
    const company = plan.companies[index]!;
    step = 'moving messages';
    for (;;) {
      const messageIds = await quick.selectArchiveBatch({
        companyId: company.companyId,
        cutoff: company.cutoff,
        limit: batchSize,
      });
      if (messageIds.length === 0) break;
      const batch = await moving.archiveMessageBatch({
        companyId: company.companyId,
        companyAlias: company.companyAlias,
        messageIds,
      });
      totals.batches += 1;
      totals.messages += batch.messages;
      totals.updates += batch.updates;
      totals.objects += batch.objects;
      totals.bytes += batch.bytes;
      batchesThisRun += 1;
      // nothing moved means the rows changed under us; the next night sees them again
      if (messageIds.length < batchSize || batch.messages === 0) break;
      if (batchesThisRun >= (input.batchesPerRun ?? 200) || workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof archiveMessages>({ ...input, state: { plan, index, totals } });
      }
    }
    step = 'purging logs';
    const purged = await long.purgeCompanyLogs({ companyId: company.companyId, cutoff: company.cutoff });
    totals.packetEvents += purged.packetEvents;
    totals.auditRows += purged.auditRows;
    // runs that continued as new before this field existed carry totals without it
    totals.webhookDeliveries = (totals.webhookDeliveries ?? 0) + (purged.webhookDeliveries ?? 0);
    // a plan made before packets had a retention has no packet cut-off; histories made before this
    // step existed replay without it
    if (company.packetCutoff && patched(PACKET_FILE_RETENTION)) {
      step = 'purging packet files';
      const files = await long.purgePacketFiles({
        companyId: company.companyId,
        cutoff: company.packetCutoff,
      });
      totals.packetFiles = (totals.packetFiles ?? 0) + files.packets;
      totals.rejectedRows = (totals.rejectedRows ?? 0) + files.rejectedRows;
    }
    totals.companies += 1;
  }

  if (plan.systemAuditCutoff) {
    step = 'purging shared audit rows';
    totals.auditRows += await long.purgeSystemAuditLog({ cutoff: plan.systemAuditCutoff });
  }
  if (input.exportHistories ?? true) {
    step = 'exporting workflow histories';
    totals.histories += (await long.exportWorkflowHistories({ limit: HISTORIES_PER_NIGHT })).exported;
  }
  step = 'done';
  return totals;
}
