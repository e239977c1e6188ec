// The worker processes docker-compose.yml deploys, read from the file, so a benchmark runs the stack's layout as it is.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { PROJECT_ROOT } from '../lib/config';

/** What shapes a worker process: its node flags and the variables that say what it hosts. */
const LAYOUT_VARIABLES = ['WORKER_TASK_QUEUES', 'WORKER_SEND_ACCOUNTS'] as const;
const WORKER_SCRIPT = 'workers/main.ts';

export interface ComposeWorker {
  /** the service's name, with its replica number when scaled (`worker-send-2`) */
  name: string;
  /** node's flags from the service's command, before `--import tsx workers/main.ts` */
  nodeArgs: string[];
  /** the service's WORKER_TASK_QUEUES and WORKER_SEND_ACCOUNTS, as set in the file */
  env: Record<string, string>;
}

interface Service {
  command?: string[];
  environment?: Record<string, string | null>;
}

/**
 * Every service of docker-compose.yml that runs `workers/main.ts`, once per replica: `scale` is what
 * `docker compose up --scale SERVICE=N` would ask (1 for a service it does not name).
 */
export async function composeWorkers(
  scale: Record<string, number> = {},
  composeFile = path.join(PROJECT_ROOT, 'docker-compose.yml'),
): Promise<ComposeWorker[]> {
  // js-yaml resolves the file's anchors and merge keys (`<<: *herald`) as the Compose CLI does
  const file = yaml.load(await readFile(composeFile, 'utf8')) as {
    services: Record<string, Service>;
  };
  for (const name of Object.keys(scale))
    if (!file.services[name]) throw new Error(`--scale ${name}: ${composeFile} has no service ${name}`);
  const workers: ComposeWorker[] = [];
  for (const [name, service] of Object.entries(file.services)) {
    const command = service.command ?? [];
    const script = command.indexOf(WORKER_SCRIPT);
    if (script < 0) continue;
    if (command[0] !== 'node' || command.slice(script - 2, script).join(' ') !== '--import tsx')
      throw new Error(`${composeFile}: ${name}'s command is not node [flags] --import tsx ${WORKER_SCRIPT}`);
    const env: Record<string, string> = {};
    for (const key of LAYOUT_VARIABLES) {
      const value = service.environment?.[key];
      if (value != null) env[key] = value;
    }
    const replicas = scale[name] ?? 1;
    for (let i = 1; i <= replicas; i++)
      workers.push({
        name: replicas > 1 ? `${name}-${i}` : name,
        nodeArgs: command.slice(1, script - 2),
        env,
      });
  }
  return workers;
}
