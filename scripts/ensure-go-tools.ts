// Makes sure the Go-built programs herald runs are there (their variable, PATH, the cache, or a Go build
// into the cache): the Temporal CLI and versitygw always, the Compose CLI with --compose.
import { parseArgs } from 'node:util';
import { GO_TOOLS, requireGoTool, type GoTool } from '../lib/runtime/go-tools';

const { values } = parseArgs({ options: { compose: { type: 'boolean', default: false } } });
const tools: GoTool[] = [
  GO_TOOLS.temporal,
  GO_TOOLS.versitygw,
  ...(values.compose ? [GO_TOOLS.compose] : []),
];

try {
  for (const tool of tools) {
    const started = Date.now();
    const found = await requireGoTool(tool, { notice: (m) => console.log(m) });
    const took = found.source === 'built' ? ` in ${Math.round((Date.now() - started) / 1000)} s` : '';
    console.log(`${tool.title}: ${found.path} (${found.source}${took})`);
  }
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
