// The workflow bundle's entry: every workflow herald runs.
export { archiveMessages } from './archive-messages';
export { checkCompanyReadiness } from './check-company-readiness';
export { deliverWebhook } from './deliver-webhook';
export { discoverSource } from './discover-source';
export { dispatchMessages } from './dispatch-messages';
export { drainWebhooks } from './drain-webhooks';
export { ingestPacket } from './ingest-packet';
export { reminderRegion } from './reminder-region';
export { reminderRun } from './reminder-run';
export { sweepStrandedSends } from './sweep-stranded-sends';
