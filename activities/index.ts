// Builds every activity from its dependencies; workers register the result, workflows import its type.
import { createArchiveActivities } from './archive';
import type { ActivityDeps } from './deps';
import { createDispatchActivities } from './dispatch';
import { createIngestActivities } from './ingest';
import { createReadinessActivities } from './readiness';
import { createReminderActivities } from './reminders';
import { createSourceActivities } from './sources';
import { createWebhookActivities } from './webhooks';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createReadinessActivities(deps),
    ...createArchiveActivities(deps),
    ...createWebhookActivities(deps),
    ...createSourceActivities(deps),
    ...createDispatchActivities(deps),
    ...createIngestActivities(deps),
    ...createReminderActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
