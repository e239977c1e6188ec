// A one-line progress bar on stderr for a person at a terminal; silent when stderr is a pipe or a log.

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export interface ProgressBar {
  update(done: number, total: number): void;
  finish(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  // a bar redrawn with \r turns into thousands of lines in a CI log or a redirected file
  if (!stream.isTTY) return { update: () => {}, finish: () => {} };
  const width = 30;
  const started = Date.now();
  let drawn = false;
  return {
    update(done, total) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(fraction * width);
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? `${formatBytes(done / seconds)}/s` : '';
      stream.write(
        `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
          `${formatBytes(done)} / ${formatBytes(total)} ${rate}   `,
      );
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}
