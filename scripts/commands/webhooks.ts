// `herald webhooks add|list|deliveries|test`: companies' webhook endpoints, what was sent to them, and a signed test event.
import { WorkflowFailedError } from '@temporalio/client';
import { InvalidArgumentError, type Command } from 'commander';
import { addEndpoint, listDeliveries, listEndpoints, WebhookSetupError } from '../../lib/webhooks/endpoints';
import { notifyCompany } from '../../lib/webhooks/enqueue';
import { EXIT, print, UsageError, withApp } from '../cli-kit';

const wholeNumber = (max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
  return n;
};

export function registerWebhookCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description("companies' webhook endpoints: signed events about packets and messages");

  webhooks
    .command('add')
    .description(
      'add (or update) an endpoint; its HMAC key is read from the environment variable --secret-env names',
    )
    .requiredOption('--company <alias>', 'the company')
    .requiredOption('--url <url>', 'where events are POSTed')
    .requiredOption(
      '--secret-env <VARIABLE>',
      'the variable holding the signing key on every worker (never stored)',
    )
    .option('--events <list>', 'comma-separated events (default: every event)', '')
    .option('--max-attempts <n>', 'attempts before a delivery is given up (default 12)', wholeNumber(50))
    .option('--description <text>', 'a note for operators')
    .option('--json', 'print as JSON')
    .action(
      (opts: {
        company: string;
        url: string;
        secretEnv: string;
        events: string;
        maxAttempts?: number;
        description?: string;
        json?: boolean;
      }) =>
        withApp({}, async (app) => {
          const events = opts.events
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean);
          const endpoint = await addEndpoint(app.sql, app.config.actor, {
            companyAlias: opts.company,
            url: opts.url,
            secretEnv: opts.secretEnv,
            events,
            maxAttempts: opts.maxAttempts,
            description: opts.description,
          }).catch((err: unknown) => {
            throw err instanceof WebhookSetupError ? new UsageError(err.message) : err;
          });
          print(!!opts.json, endpoint, () => [
            `endpoint ${endpoint.uuid} of ${endpoint.company}: ${endpoint.url}`,
            `events ${endpoint.events.length ? endpoint.events.join(', ') : 'all'}; signed with $${endpoint.secret_env}`,
            ...(process.env[endpoint.secret_env]
              ? []
              : [
                  `note: ${endpoint.secret_env} is not set here; set it on every worker before events are sent`,
                ]),
          ]);
        }),
    );

  webhooks
    .command('list')
    .description('list endpoints')
    .option('--company <alias>', 'only this company')
    .option('--json', 'print as JSON')
    .action((opts: { company?: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const rows = await listEndpoints(app.sql, opts.company);
        print(!!opts.json, rows, () =>
          rows.length === 0
            ? ['no webhook endpoints']
            : rows.map(
                (e) =>
                  `${e.company.padEnd(20)} ${e.active ? 'active  ' : 'disabled'} ${e.url}  [${e.events.join(', ') || 'all events'}]${e.disabled_reason ? `  (${e.disabled_reason})` : ''}`,
              ),
        );
      }),
    );

  webhooks
    .command('deliveries')
    .description('the latest deliveries with their status, attempts and last answer')
    .option('--company <alias>', 'only this company')
    .option('--status <status>', 'pending, delivering, delivered or failed')
    .option('--limit <n>', 'how many (default 50)', wholeNumber(10_000), 50)
    .option('--json', 'print as JSON')
    .action((opts: { company?: string; status?: string; limit: number; json?: boolean }) =>
      withApp({}, async (app) => {
        if (opts.status && !['pending', 'delivering', 'delivered', 'failed'].includes(opts.status)) {
          throw new UsageError('--status must be pending, delivering, delivered or failed');
        }
        const rows = await listDeliveries(app.sql, {
          companyAlias: opts.company,
          status: opts.status,
          limit: opts.limit,
        });
        print(!!opts.json, rows, () =>
          rows.map(
            (d) =>
              `${d.created_at.toISOString()} ${d.company} ${d.event.padEnd(20)} ${d.status.padEnd(10)} attempts ${d.attempts}` +
              `${d.last_status_code ? ` last ${d.last_status_code}` : ''}${d.last_error && d.status !== 'delivered' ? ` (${d.last_error})` : ''}  ${d.url}`,
          ),
        );
      }),
    );

  webhooks
    .command('test')
    .description(
      "send a signed webhook.test event to the company's endpoints and wait for the answers (needs a running worker)",
    )
    .requiredOption('--company <alias>', 'the company')
    .option('--json', 'print as JSON')
    .action((opts: { company: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const [company] = await app.sql<
          { id: number }[]
        >`select id from companies where alias = ${opts.company}`;
        if (!company) throw new UsageError(`no company has the alias "${opts.company}"`);
        const client = await app.client();
        const queued = await notifyCompany(
          { sql: app.sql, client },
          {
            companyId: company.id,
            event: 'webhook.test',
            payload: { message: 'a test event sent by an operator', by: app.config.actor },
            // every test is a new event
            eventKey: `test:${new Date().toISOString()}`,
          },
        );
        const results = await Promise.all(
          queued.map(async (q) => {
            const outcome = await client.workflow
              .getHandle(q.workflowId)
              .result()
              .then(
                () => ({ delivered: true, error: null }),
                (err: unknown) => ({
                  delivered: false,
                  error:
                    err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err),
                }),
              );
            return { ...q, ...outcome };
          }),
        );
        print(!!opts.json, results, () =>
          results.length === 0
            ? [`${opts.company} has no active endpoint`]
            : results.map(
                (r) =>
                  `${r.delivered ? 'delivered' : 'FAILED   '} ${r.endpointUrl}${r.error ? `: ${r.error}` : ''}`,
              ),
        );
        return results.length > 0 && results.every((r) => r.delivered) ? EXIT.ok : EXIT.failed;
      }),
    );
}
