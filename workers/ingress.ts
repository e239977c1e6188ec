// Ingress process (`npm run ingress`): the HTTP endpoint for provider callbacks, replies and unsubscribes, until SIGINT/SIGTERM.
import { openApp } from '../lib/app';
import { exitOnStartFailure, loadConfigOrExit, loadDotEnv } from '../lib/config';
import { createLogger } from '../lib/log';
import { fetchSnsText } from '../lib/ingress/sns';
import { startIngress } from '../lib/ingress/server';
import { heraldMetrics } from '../lib/ops/metrics';
import { startOpsServer } from '../lib/ops/server';

loadDotEnv();
const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel ?? 'info' }).child({ process: 'ingress' });
const app = await openApp({ config, log, setUp: true }).catch(exitOnStartFailure('ingress'));

const ingress = await startIngress(
  {
    sql: app.sql,
    log,
    publicBaseUrl: config.ingress.publicBaseUrl,
    twilio: { authToken: config.twilio.authToken, accountSid: config.twilio.accountSid },
    sns: {
      topicArns: config.ingress.snsTopicArns,
      secret: config.ingress.snsSecret,
      fetchText: fetchSnsText,
    },
    unsubscribeSecret: config.ingress.unsubscribeSecret,
  },
  // all interfaces: providers reach it through a load balancer or tunnel in front of this port
  { port: config.ingress.port, host: '0.0.0.0', limits: config.ingress.limits },
);
// the operations endpoint stays on its own port, apart from what providers can reach
const ops = await startOpsServer({
  ...config.ops,
  log,
  metrics: () => heraldMetrics(app.sql),
  notReady: async () => {
    await app.sql`select 1`;
    return undefined;
  },
}).catch(exitOnStartFailure('ingress'));
log.info(
  { port: ingress.port, opsPort: ops.port, publicBaseUrl: config.ingress.publicBaseUrl ?? ingress.url },
  'ingress listening',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: tsx exits at once when its own handler is the only one left
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    void Promise.all([ingress.close(), ops.close()])
      .then(() => app.close())
      .then(() => process.exit(0));
  });
}
