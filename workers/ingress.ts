// Ingress process (`npm run ingress`): the HTTP endpoint for provider callbacks, replies and unsubscribes, until SIGINT/SIGTERM.
import { openApp } from '../lib/app';
import { loadConfigOrExit } from '../lib/config';
import { fetchSnsText } from '../lib/ingress/sns';
import { startIngress } from '../lib/ingress/server';

const config = loadConfigOrExit();
const app = await openApp({ config, setUp: true });
const log = app.log.child({ process: 'ingress' });
log.level = 'info';

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
  { port: config.ingress.port, host: '0.0.0.0' },
);
log.info(
  { port: ingress.port, publicBaseUrl: config.ingress.publicBaseUrl ?? ingress.url },
  'ingress listening',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: tsx exits at once when its own handler is the only one left
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    void ingress
      .close()
      .then(() => app.close())
      .then(() => process.exit(0));
  });
}
