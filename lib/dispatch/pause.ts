// A wait that ends early when the send attempt must stop (its lease lost, its activity cancelled).

/** Resolves after `ms`, or at once when `signal` aborts; the caller checks the signal to tell which. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
