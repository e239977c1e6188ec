// `herald packets list|show|replay|reset|cancel|rejects`: operators' view of data packets and their fixes, each change in the stage log.
import { writeFile } from 'node:fs/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../../lib/app';
import { formatPacketSummary, readPacketSummary } from '../../lib/ingest/summary';
import {
  acceptAsIs,
  cancelRunningIngest,
  chooseLoadMapVersion,
  currentMapName,
  PacketOperationRefused,
  runningIngest,
  setStageByOperator,
  startPacketRun,
} from '../../lib/packet-ops/control';
import {
  findPacket,
  listPackets,
  PacketNotFound,
  packetDetail,
  packetRejects,
  type PacketDetail,
} from '../../lib/packet-ops/read';
import { FORMER_STAGE_NAMES, PACKET_STAGES, recordPacketEvent, type PacketStage } from '../../lib/packets';
import { workflowUiUrl } from '../../lib/temporal';
import { ingestProgressQuery, type IngestFrom } from '../../workflows/ingest-packet';
import { EXIT, print, UsageError, withApp } from '../cli-kit';
import { rootCause, watchProgress } from '../watch-progress';

const FROM: readonly IngestFrom[] = ['fetched', 'loaded', 'regions_counted'];
/** reset --stage: the stage the packet goes back to, and where its new run starts */
const RESET_TO: Record<string, IngestFrom> = {
  received: 'fetched',
  fetched: 'fetched',
  loaded: 'loaded',
  regions_counted: 'regions_counted',
};

/**
 * A stage as an operator typed it: an earlier release's word (`sharded`) still works, for scripts
 * written against it, and says its new name.
 */
function stageWord(word: string): string {
  const renamed = FORMER_STAGE_NAMES[word];
  if (!renamed) return word;
  process.stderr.write(`herald: the stage "${word}" is now called "${renamed}"; the old word still works\n`);
  return renamed;
}

const stage = (word: string): PacketStage => {
  const v = stageWord(word);
  if (!(PACKET_STAGES as readonly string[]).includes(v))
    throw new InvalidArgumentError(`must be one of ${PACKET_STAGES.join(', ')}`);
  return v as PacketStage;
};
const seconds = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 3600)
    throw new InvalidArgumentError('must be a number of seconds from 0 to 3600');
  return n;
};
const since = (v: string): Date => {
  const days = /^(\d+)d$/.exec(v);
  const at = days ? new Date(Date.now() - Number(days[1]) * 86_400_000) : new Date(v);
  if (Number.isNaN(at.getTime()))
    throw new InvalidArgumentError('must be an ISO date (2025-06-01) or a number of days (7d)');
  return at;
};

/** Maps what the person got wrong (an unknown id, an operation that does not apply) to exit code 2. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PacketNotFound || err instanceof PacketOperationRefused)
      throw new UsageError(err.message);
    throw err;
  }
}

/** Waits for a run with a progress line, then prints the packet's summary; a failed ingest is exit code 1. */
async function finishRun(
  app: App,
  packetId: string,
  workflowId: string,
  wait: boolean,
  json: boolean,
  extra: Record<string, unknown>,
) {
  const client = await app.client();
  let failure: string | null = null;
  if (wait) {
    const handle = client.workflow.getHandle(workflowId);
    const stop = watchProgress(async () => {
      const p = await handle.query(ingestProgressQuery);
      return `ingest: ${p.stage}, rows read ${p.rowsRead}, loaded ${p.rowsLoaded}, rejected ${p.rowsRejected}`;
    });
    await handle
      .result()
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowFailedError)) throw err;
        failure = rootCause(err);
      })
      .finally(stop);
  }
  const summary = (await readPacketSummary(app.sql, packetId))!;
  const link = workflowUiUrl(app.temporal, workflowId);
  print(json, { ...extra, ...summary, workflowId, workflowUrl: link ?? null }, () => [
    ...formatPacketSummary(summary, app.bucket),
    `  workflow    ${link ?? workflowId}`,
    ...(wait ? [] : ['  (not waiting: the run goes on; follow it in the Web UI)']),
  ]);
  return failure ? EXIT.failed : EXIT.ok;
}

function describeReminders(r: PacketDetail['reminders']): string {
  if ('problem' in r) return `cannot be computed: ${r.problem}`;
  return (
    `${r.sent + r.pending + r.toCome} for its ${r.appointments} appointments: ${r.sent} sent, ` +
    `${r.pending} waiting to be sent, ${r.toCome} still to fall due (computed from the plan now)`
  );
}

export function registerPacketCommands(program: Command): void {
  const packets = program
    .command('packets')
    .description('data packets (one per file): list, inspect, re-run, reset, cancel, rejected rows');

  packets
    .command('list')
    .description('the latest packets, newest first')
    .option('--company <alias>', 'only this company')
    .option('--stage <stage>', `only packets at this stage (${PACKET_STAGES.join(', ')})`, stage)
    .option('--since <when>', 'created since an ISO date or a number of days ago (7d)', since)
    .option('--limit <n>', 'how many (default 50)', (v) => Number(v), 50)
    .option('--json', 'print as JSON')
    .action((opts: { company?: string; stage?: PacketStage; since?: Date; limit: number; json?: boolean }) =>
      withApp({}, async (app) => {
        const rows = await listPackets(app.sql, {
          companyAlias: opts.company,
          stage: opts.stage,
          since: opts.since,
          limit: opts.limit,
        });
        print(!!opts.json, rows, () =>
          rows.length === 0
            ? ['no packets']
            : rows.map(
                (p) =>
                  `${p.packetId}  ${p.createdAt.toISOString().slice(0, 16)}  ${p.company.padEnd(18)} ${p.stage.padEnd(9)} ` +
                  `read ${p.rowsRead} loaded ${p.rowsLoaded} rejected ${p.rowsRejected}  ${p.fileName}` +
                  `${p.error ? `  (${p.error})` : ''}`,
              ),
        );
      }),
    );

  packets
    .command('show <id>')
    .description(
      'one packet: counts, its stages with times and who moved it, the most common reject reasons, its workflow',
    )
    .option('--json', 'print as JSON')
    .action((id: string, opts: { json?: boolean }) =>
      withApp({}, async (app) =>
        guarded(async () => {
          const detail = await packetDetail(app.sql, id);
          const packet = await findPacket(app.sql, id);
          const running = await runningIngest(await app.client(), packet);
          const link = detail.workflowId ? workflowUiUrl(app.temporal, detail.workflowId) : undefined;
          print(!!opts.json, { ...detail, running: running !== null, workflowUrl: link ?? null }, () => [
            ...formatPacketSummary(detail, app.bucket),
            `  reminders   ${describeReminders(detail.reminders)}`,
            `  workflow    ${link ?? detail.workflowId ?? 'none'}${running ? ' (running)' : ''}`,
            '  stages',
            ...detail.events.map(
              (e) => `    ${e.at.toISOString()}  ${e.stage.padEnd(15)} ${e.event}  (${e.actor})`,
            ),
            ...(detail.rejectReasons.length
              ? [
                  '  rejects',
                  ...detail.rejectReasons.map(
                    (r) =>
                      `    ${String(r.rows).padStart(6)} × ${r.column ?? '(row)'}: ${r.reason} (first at row ${r.firstRow})`,
                  ),
                ]
              : []),
          ]);
        }),
      ),
    );

  packets
    .command('replay <id>')
    .description(
      'run a finished packet again from its raw file in S3 (or from merged rows); re-running never duplicates rows',
    )
    .option(
      '--from <stage>',
      `where to start: fetched (the file, default), loaded (count regions again), regions_counted (finish only)`,
      'fetched',
    )
    .option(
      '--load-map <ref>',
      'read the file through another load map: name (its active version), name@N, or N (a version of the map it was read with); with --from fetched',
    )
    .option('--no-wait', 'start it and return')
    .option('--json', 'print as JSON')
    .action((id: string, opts: { from: string; loadMap?: string; wait: boolean; json?: boolean }) =>
      withApp({}, async (app) =>
        guarded(async () => {
          opts.from = stageWord(opts.from);
          if (!FROM.includes(opts.from as IngestFrom))
            throw new UsageError(`--from must be one of ${FROM.join(', ')}`);
          if (opts.loadMap && opts.from !== 'fetched')
            throw new UsageError(
              '--load-map needs --from fetched: only a run from the file reads it through a map',
            );
          const client = await app.client();
          const packet = await findPacket(app.sql, id);
          const running = await runningIngest(client, packet);
          if (running)
            throw new PacketOperationRefused(
              `packet ${id} is being ingested (${running}); wait for it, or use reset or cancel`,
            );
          const loadMap = opts.loadMap
            ? await chooseLoadMapVersion(app.sql, packet, opts.loadMap)
            : undefined;
          const { workflowId, run } = await startPacketRun({ sql: app.sql, client }, packet, {
            from: opts.from as IngestFrom,
            actor: app.config.actor,
            event: 'replay requested',
            details: loadMap ? { loadMap } : {},
          });
          return finishRun(app, packet.uuid, workflowId, opts.wait, !!opts.json, { run, from: opts.from });
        }),
      ),
    );

  packets
    .command('release <id>')
    .description(
      'run a held packet again from its file: through the map as it is now (or --load-map), or --as-is to load it despite what held it',
    )
    .option('--load-map <ref>', 'read it with this load map: name (its active version) or name@N')
    .option('--as-is', 'load it with the header and text it has (new columns kept as extras)')
    .option('--no-wait', 'start it and return')
    .option('--json', 'print as JSON')
    .action((id: string, opts: { loadMap?: string; asIs?: boolean; wait: boolean; json?: boolean }) =>
      withApp({}, async (app) =>
        guarded(async () => {
          const client = await app.client();
          const packet = await findPacket(app.sql, id);
          if (packet.stage !== 'held')
            throw new PacketOperationRefused(
              `packet ${id} is ${packet.stage}, not held${packet.stage === 'failed' ? '; run it again with herald packets replay' : ''}`,
            );
          // without --load-map, the map it was read with as it is now: a version added since is used
          const loadMap = await chooseLoadMapVersion(
            app.sql,
            packet,
            opts.loadMap ?? (await currentMapName(app.sql, packet)),
          );
          if (opts.asIs) await acceptAsIs(app.sql, packet);
          const { workflowId, run } = await startPacketRun({ sql: app.sql, client }, packet, {
            from: 'fetched',
            actor: app.config.actor,
            event: 'released by an operator',
            details: { loadMap, asIs: !!opts.asIs, held: packet.error },
          });
          return finishRun(app, packet.uuid, workflowId, opts.wait, !!opts.json, { run, released: true });
        }),
      ),
    );

  packets
    .command('reset <id>')
    .description(
      'put a stuck or failed packet back to a stage and run it on from there (its running ingest is cancelled first)',
    )
    .requiredOption(
      '--stage <stage>',
      'received (from the file), loaded (count regions again) or regions_counted (finish only)',
    )
    .option(
      '--grace <seconds>',
      'how long the running ingest may take to stop before it is terminated',
      seconds,
      30,
    )
    .option('--no-wait', 'start it and return')
    .option('--json', 'print as JSON')
    .action((id: string, opts: { stage: string; grace: number; wait: boolean; json?: boolean }) =>
      withApp({}, async (app) =>
        guarded(async () => {
          opts.stage = stageWord(opts.stage);
          const from = RESET_TO[opts.stage];
          if (!from) throw new UsageError(`--stage must be one of ${Object.keys(RESET_TO).join(', ')}`);
          const client = await app.client();
          let packet = await findPacket(app.sql, id);
          const cancelled = await cancelRunningIngest(client, packet, {
            actor: app.config.actor,
            graceMs: opts.grace * 1000,
          });
          await setStageByOperator(
            app.sql,
            packet,
            opts.stage as PacketStage,
            app.config.actor,
            `reset to ${opts.stage} by an operator`,
            {
              previousStage: packet.stage,
              cancelledWorkflow: cancelled,
            },
          );
          packet = await findPacket(app.sql, id);
          const { workflowId, run } = await startPacketRun({ sql: app.sql, client }, packet, {
            from,
            actor: app.config.actor,
            event: 'run after reset',
          });
          return finishRun(app, packet.uuid, workflowId, opts.wait, !!opts.json, {
            run,
            from,
            cancelledWorkflow: cancelled,
          });
        }),
      ),
    );

  packets
    .command('cancel <id>')
    .description('stop a packet: its running ingest is cancelled and the packet marked cancelled')
    .option(
      '--grace <seconds>',
      'how long the running ingest may take to stop before it is terminated',
      seconds,
      30,
    )
    .option('--json', 'print as JSON')
    .action((id: string, opts: { grace: number; json?: boolean }) =>
      withApp({}, async (app) =>
        guarded(async () => {
          const packet = await findPacket(app.sql, id);
          if (packet.stage === 'done' || packet.stage === 'cancelled') {
            throw new PacketOperationRefused(`packet ${id} is already ${packet.stage}`);
          }
          const cancelled = await cancelRunningIngest(await app.client(), packet, {
            actor: app.config.actor,
            graceMs: opts.grace * 1000,
          });
          // a cancellation that reached the ingest after its merge committed stops nothing: say what is true
          const now = await findPacket(app.sql, id);
          if (now.stage === 'done' || now.merged_at) {
            throw new PacketOperationRefused(
              `packet ${id}'s rows were merged before the cancellation reached its ingest: it is ${now.stage}` +
                ` with ${now.rows_loaded ?? 0} rows loaded, and nothing was cancelled`,
            );
          }
          const after = await setStageByOperator(
            app.sql,
            packet,
            'cancelled',
            app.config.actor,
            'cancelled by an operator',
            {
              previousStage: packet.stage,
              cancelledWorkflow: cancelled,
            },
          );
          print(
            !!opts.json,
            {
              packetId: packet.uuid,
              stage: after.stage,
              previousStage: packet.stage,
              cancelledWorkflow: cancelled,
            },
            () => [
              `packet ${packet.uuid} cancelled (was ${packet.stage})${cancelled ? `; its ingest ${cancelled} was stopped` : ''}`,
            ],
          );
        }),
      ),
    );

  packets
    .command('rejects <id>')
    .description("the packet's rejected rows (row, column, value, reason) as CSV, to stdout or --out FILE")
    .option('--out <file>', 'write the CSV report here')
    .option('--json', 'print the rows as JSON')
    .action((id: string, opts: { out?: string; json?: boolean }) =>
      withApp({}, async (app) =>
        guarded(async () => {
          const packet = await findPacket(app.sql, id);
          if (opts.json) {
            print(true, await packetRejects(app.sql, packet), () => []);
          } else if (!packet.rejects_key) {
            process.stderr.write(`packet ${id} has no rejected rows\n`);
            if (opts.out) await writeFile(opts.out, 'row,column,value,reason\r\n');
          } else {
            // the report the ingest wrote (formula-safe quoting), not a second CSV writer
            const object = await app.s3.send(
              new GetObjectCommand({ Bucket: app.bucket, Key: packet.rejects_key }),
            );
            const csv = await object.Body!.transformToString('utf-8');
            if (opts.out) await writeFile(opts.out, csv);
            else process.stdout.write(csv);
          }
          // raw values of people's rows left the system: who took them is in the packet's log
          await recordPacketEvent(app.sql, packet, packet.stage, 'rejects exported', app.config.actor, {
            rows: packet.rows_rejected,
            to: opts.out ?? (opts.json ? 'stdout (json)' : 'stdout'),
          });
          if (opts.out) process.stderr.write(`wrote ${packet.rows_rejected} rejected rows to ${opts.out}\n`);
        }),
      ),
    );
}
