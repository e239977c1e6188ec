// Lines telling a person which servers herald is using and where the Temporal Web UI is.
import type { App } from '../lib/app';

export function describeRuntime(app: App): string[] {
  const { runtime } = app;
  const where = (embedded: boolean) => (runtime.attached ? 'shared' : embedded ? 'embedded' : 'configured');
  const db = new URL(runtime.databaseUrl);
  return [
    `  Postgres    ${where(runtime.embedded.postgres)}  ${db.hostname}:${db.port}${db.pathname}`,
    `  Temporal    ${where(runtime.embedded.temporal)}  ${runtime.temporal.address} namespace ${runtime.temporal.namespace}`,
    `  Web UI      ${runtime.temporal.uiUrl ?? '(unknown: set TEMPORAL_UI_URL)'}`,
    `  S3          ${where(runtime.embedded.s3)}  ${runtime.s3.endpoint ?? 'AWS'} bucket ${runtime.s3.bucket}`,
  ];
}
