// Child process running s3rver (a local S3-compatible server) so only it needs --openssl-legacy-provider.
'use strict';
const S3rver = require('s3rver');

const [directory, port] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true });
server.run((err, address) => {
  if (err) {
    process.stderr.write(`s3rver failed: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`READY ${address.port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// die with the parent: an orphaned S3 server would hold the data directory
process.on('disconnect', stop);
