// What every activity factory receives: its dependencies, passed in so tests use the same door.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Sql } from '../lib/db';
import type { Logger } from '../lib/log';
import type { ProviderRegistry } from '../lib/providers/registry';
import type { IngestLimits } from '../schemas/ingest-limits';
import type { QuietHoursPolicy } from '../schemas/reminder-settings';

export interface ActivityDeps {
  sql: Sql;
  /**
   * The pool of a reminder run's long statement (making its due messages); unset = `sql`. Apart, so
   * that ten runs' statements of a second each never hold every connection while the short ones of
   * screens and send batches, which the first texts wait on, queue behind them.
   */
  runSql?: Sql;
  s3: S3Client;
  bucket: string;
  log: Logger;
  /** the provider behind each account (lib/providers/registry: the configured vendors, or given instances) */
  providers: ProviderRegistry;
  /** the deployment's quiet-hour rules (QUIET_HOURS...); unset = herald's defaults (schemas/reminder-settings) */
  quietHours?: QuietHoursPolicy;
  /** what a file may hold (INGEST_MAX_...); unset = herald's defaults (schemas/ingest-limits) */
  ingestLimits?: IngestLimits;
  /** an SFTP or HTTPS source's file without a maxFileMB of its own (SOURCE_MAX_FILE_MB); unset = the default */
  sourceMaxFileBytes?: number;
  /** the prefixes of the variables a source or webhook may name as a secret (SECRET_ENV_PREFIXES) */
  secretEnvPrefixes?: readonly string[];
}
