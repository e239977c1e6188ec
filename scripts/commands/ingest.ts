// The ingest side of the CLI: uploads, sources and their discovery, load-map checks and previews.
import type { Command } from 'commander';
import { registerLoadMapCommands } from './loadmap';
import { registerSourceCommands } from './sources';
import { registerUploadCommand } from './upload';

export function registerIngestCommands(program: Command): void {
  registerUploadCommand(program);
  registerSourceCommands(program);
  registerLoadMapCommands(program);
}
