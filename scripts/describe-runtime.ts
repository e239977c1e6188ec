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

/** The variables that point a worker, the ingress or the CLI at these servers (servers-only mode). */
export function serverVariables(app: App): string[] {
  const { runtime } = app;
  return [
    `DATABASE_URL=${runtime.databaseUrl}`,
    `TEMPORAL_ADDRESS=${runtime.temporal.address}`,
    `TEMPORAL_NAMESPACE=${runtime.temporal.namespace}`,
    ...(runtime.temporal.uiUrl ? [`TEMPORAL_UI_URL=${runtime.temporal.uiUrl}`] : []),
    `S3_ENDPOINT=${runtime.s3.endpoint ?? 'aws'}`,
    `S3_BUCKET=${runtime.s3.bucket}`,
    // the embedded server's own loopback keys; a configured store's secret is never printed
    ...(runtime.embedded.s3
      ? [`S3_ACCESS_KEY_ID=${runtime.s3.accessKeyId}`, `S3_SECRET_ACCESS_KEY=${runtime.s3.secretAccessKey}`]
      : []),
  ];
}
