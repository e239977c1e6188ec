// A status line redrawn on stderr while a person waits for a workflow; silent when stderr is not a terminal.

/** Polls `line` every second (usually a workflow's progress query) until the returned stop is called. */
export function watchProgress(line: () => Promise<string>): () => void {
  // redrawn lines become thousands of lines in a CI log or a redirected file
  if (!process.stderr.isTTY) return () => {};
  let width = 0;
  const timer = setInterval(() => {
    line().then(
      (text) => {
        width = Math.max(width, text.length);
        process.stderr.write(`\r${text.padEnd(width)}`);
      },
      () => {},
    );
  }, 1000);
  return () => {
    clearInterval(timer);
    if (width) process.stderr.write('\r' + ' '.repeat(width) + '\r');
  };
}

/** The innermost cause's message: the activity's reason, not "Workflow execution failed". */
export function rootCause(err: Error): string {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return e.message;
}
