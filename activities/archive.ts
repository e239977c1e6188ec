// Activities of the nightly archive: plan per company, move message batches (exported first), purge logs, export histories.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { archiveBatchName, exportArchivedMessages } from '../lib/archive/export';
import {
  exportClosedHistories,
  type HistoryExportInput,
  type HistoryExportResult,
} from '../lib/archive/histories';
import { archiveMessageBatch, selectArchiveBatch } from '../lib/archive/messages';
import { purgePacketFiles, type PurgedPacketFiles } from '../lib/archive/packet-files';
import { purgeCompanyLogs, purgeSystemAuditLog } from '../lib/archive/purge';
import { planArchive, UnknownCompanyError, type ArchivePlan } from '../lib/archive/targets';
import { activityLog } from './activity-log';
import type { ActivityDeps } from './deps';

export type { ArchivePlan, ArchiveTarget } from '../lib/archive/targets';

export interface ArchivedBatch {
  messages: number;
  updates: number;
  /** ids an earlier attempt already moved (its objects were written then) */
  alreadyArchived: number;
  objects: number;
  bytes: number;
}

export function createArchiveActivities({ sql, s3, bucket, log }: ActivityDeps) {
  return {
    async planArchive(input: { now: string; companyAlias?: string }): Promise<ArchivePlan> {
      try {
        return await planArchive(sql, input);
      } catch (err) {
        if (err instanceof UnknownCompanyError)
          throw ApplicationFailure.nonRetryable(err.message, 'UnknownCompany');
        throw err;
      }
    },

    async selectArchiveBatch(input: { companyId: number; cutoff: string; limit: number }): Promise<number[]> {
      return selectArchiveBatch(sql, input);
    },

    /** Exports the batch to S3 and moves it to history in one transaction: a crash before the commit leaves the rows live. */
    async archiveMessageBatch(input: {
      companyId: number;
      companyAlias: string;
      messageIds: number[];
    }): Promise<ArchivedBatch> {
      const batchName = archiveBatchName(input.messageIds);
      let objects = 0;
      let bytes = 0;
      const moved = await archiveMessageBatch(sql, input, async (rows) => {
        const written = await exportArchivedMessages(s3, bucket, {
          companyAlias: input.companyAlias,
          batchName,
          rows,
        });
        objects = written.keys.length;
        bytes = written.bytes;
      });
      activityLog(log, { companyId: input.companyId }).info(
        { ...moved, objects, bytes, batchName },
        'archived a batch',
      );
      return { ...moved, objects, bytes };
    },

    async purgeCompanyLogs(input: {
      companyId: number;
      cutoff: string;
    }): Promise<{ packetEvents: number; auditRows: number; webhookDeliveries: number }> {
      return purgeCompanyLogs(sql, input, (n) => Context.current().heartbeat(n));
    },

    /** Deletes the raw files, rejects reports and rejected rows of packets past the company's packet retention. */
    async purgePacketFiles(input: { companyId: number; cutoff: string }): Promise<PurgedPacketFiles> {
      const result = await purgePacketFiles({ sql, s3, bucket }, input, (n) =>
        Context.current().heartbeat(n),
      );
      activityLog(log, { companyId: input.companyId }).info(result, 'purged packet files past retention');
      return result;
    },

    async purgeSystemAuditLog(input: { cutoff: string }): Promise<number> {
      return purgeSystemAuditLog(sql, input, (n) => Context.current().heartbeat(n));
    },

    async exportWorkflowHistories(input: HistoryExportInput): Promise<HistoryExportResult> {
      const { client } = Context.current();
      const result = await exportClosedHistories({ client, sql, s3, bucket }, input, (n) =>
        Context.current().heartbeat(n),
      );
      activityLog(log).info(result, 'exported workflow histories');
      return result;
    },
  };
}
