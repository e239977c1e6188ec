// Makes sure the Temporal CLI is available (TEMPORAL_CLI_PATH, PATH, cache, or a Go build into the cache).
import { resolveTemporalCli } from '../lib/runtime/temporal-cli';

try {
  const cli = await resolveTemporalCli({
    cliPath: process.env.TEMPORAL_CLI_PATH || undefined,
    notice: (m) => console.log(m),
  });
  console.log(
    cli
      ? `Temporal CLI: ${cli.path} (from ${cli.source})`
      : 'No Temporal CLI and no Go: the SDK will download its dev server (needs internet).',
  );
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
