// Adds up what screened pages counted (pure: a reminder run and its regions add their pages' counts).
import type { ScreenCounts } from '../reminders/screen-page';

const CHANNELS = ['sms', 'voice', 'email'] as const;

/** Adds `page`'s counts into `into`. */
export function addScreenCounts(into: ScreenCounts, page: ScreenCounts): void {
  into.seen += page.seen;
  into.deferred += page.deferred;
  into.expired += page.expired;
  into.cancelled += page.cancelled;
  into.skipped += page.skipped;
  for (const c of CHANNELS) into.ready[c] += page.ready[c];
}
