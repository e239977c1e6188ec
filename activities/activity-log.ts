// A logger for the running activity with its workflow id, activity type and attempt bound.
import { Context } from '@temporalio/activity';
import type { Logger } from '../lib/log';

export function activityLog(log: Logger, ids: Record<string, string | number | undefined> = {}): Logger {
  const { info } = Context.current();
  return log.child({
    workflowId: info.workflowExecution?.workflowId,
    activity: info.activityType,
    attempt: info.attempt,
    ...ids,
  });
}
