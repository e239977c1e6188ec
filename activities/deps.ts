// What every activity factory receives: its dependencies, passed in so tests use the same door.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Sql } from '../lib/db';
import type { Logger } from '../lib/log';
import type { ProviderRegistry } from '../lib/providers/registry';

export interface ActivityDeps {
  sql: Sql;
  s3: S3Client;
  bucket: string;
  log: Logger;
  /** the provider behind each account (lib/providers/registry: the configured vendors, or given instances) */
  providers: ProviderRegistry;
}
