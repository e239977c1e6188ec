import { ActivityCancellationDetails, ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { endsTheCopy } from '../../activities/sources';

const policy = { maximumAttempts: 5, nonRetryableErrorTypes: ['SourceConfig'] };
const retryable = ApplicationFailure.retryable('503 from the source', 'HttpStatus');

describe('whether a failed copy attempt ends the copy (and aborts its upload)', () => {
  it('ends it on a failure that is not retried', () => {
    expect(endsTheCopy(ApplicationFailure.nonRetryable('404', 'HttpStatus'), { attempt: 1 })).toBe(true);
    expect(
      endsTheCopy(ApplicationFailure.retryable('bad config', 'SourceConfig'), {
        attempt: 1,
        retryPolicy: policy,
      }),
    ).toBe(true);
    expect(
      endsTheCopy(Object.assign(new Error('x'), { name: 'SourceConfig' }), {
        attempt: 1,
        retryPolicy: policy,
      }),
    ).toBe(true);
  });

  it('ends it on the retry policy’s last attempt, and not before', () => {
    expect(endsTheCopy(retryable, { attempt: 4, retryPolicy: policy })).toBe(false);
    expect(endsTheCopy(new Error('socket hang up'), { attempt: 4, retryPolicy: policy })).toBe(false);
    expect(endsTheCopy(retryable, { attempt: 5, retryPolicy: policy })).toBe(true);
    expect(endsTheCopy(new Error('socket hang up'), { attempt: 5, retryPolicy: policy })).toBe(true);
  });

  it('never ends it by count when attempts are unlimited or the server sent no policy', () => {
    expect(endsTheCopy(retryable, { attempt: 50, retryPolicy: { maximumAttempts: 0 } })).toBe(false);
    expect(endsTheCopy(retryable, { attempt: 50 })).toBe(false);
  });

  it('ends it when the workflow cancelled it, not when its worker stops or it timed out', () => {
    const cancelled = (reason: ConstructorParameters<typeof ActivityCancellationDetails>[0]) =>
      endsTheCopy(
        new Error('aborted'),
        { attempt: 2, retryPolicy: policy },
        new ActivityCancellationDetails(reason),
      );
    expect(cancelled({ cancelRequested: true })).toBe(true);
    expect(cancelled({ workerShutdown: true })).toBe(false);
    expect(cancelled({ timedOut: true })).toBe(false);
  });
});
