// What every activity factory receives: its dependencies, passed in so tests use the same door.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Sql } from '../lib/db';
import type { Logger } from '../lib/log';

export interface ActivityDeps {
  sql: Sql;
  s3: S3Client;
  bucket: string;
  log: Logger;
}
