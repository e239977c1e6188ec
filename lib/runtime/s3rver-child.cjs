// Child process running s3rver (a local S3-compatible server) so only it needs --openssl-legacy-provider.
'use strict';
const fs = require('node:fs/promises');
const path = require('node:path');
const S3rver = require('s3rver');
const authentication = require('s3rver/lib/middleware/authentication');
const S3Error = require('s3rver/lib/models/error');

const [directory, port] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true });

/** Where s3rver keeps a bucket's unfinished multipart uploads: a folder per upload id holding a `key` file and the parts. */
const uploadsOf = (bucket) => server.store.getResourcePath(bucket, undefined, 'uploads');

async function openUploads(bucket, prefix) {
  const ids = await fs.readdir(uploadsOf(bucket)).catch((err) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const uploads = [];
  for (const id of ids) {
    const keyFile = path.join(uploadsOf(bucket), id, 'key');
    const key = await fs.readFile(keyFile, 'utf8').catch(() => undefined);
    if (key === undefined || !key.startsWith(prefix)) continue;
    uploads.push({ Key: key, UploadId: id, Initiated: (await fs.stat(keyFile)).mtime.toISOString() });
  }
  return uploads.sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
}

/**
 * ListMultipartUploads (GET /bucket?uploads) and AbortMultipartUpload (DELETE /bucket/key?uploadId=),
 * which s3rver 3 refuses as not implemented: herald aborts the uploads of copies that failed for
 * good, and its tests list what is left open. Signatures are checked as for s3rver's own routes.
 */
async function multipartUploads(ctx, next) {
  // the SDK asks for a bucket's uploads at `/bucket/?uploads`
  const match = /^\/([^/]+)(?:\/(.*))?$/.exec(ctx.path);
  const listing = ctx.method === 'GET' && match && !match[2] && 'uploads' in ctx.query;
  const aborting = ctx.method === 'DELETE' && match && match[2] && 'uploadId' in ctx.query;
  if (!listing && !aborting) return next();
  const bucket = match[1];
  ctx.params = { bucket, key: match[2] && decodeURIComponent(match[2]) };
  await authentication()(ctx, async () => {
    if (!(await server.store.getBucket(bucket)))
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    if (listing) {
      const prefix = String(ctx.query.prefix ?? '');
      const uploads = await openUploads(bucket, prefix);
      ctx.body = {
        ListMultipartUploadsResult: {
          '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
          Bucket: bucket,
          Prefix: prefix,
          MaxUploads: 1000,
          IsTruncated: false,
          Upload: uploads.map((u) => ({ ...u, StorageClass: 'STANDARD' })),
        },
      };
      return;
    }
    const id = String(ctx.query.uploadId);
    const dir = path.join(uploadsOf(bucket), path.basename(id));
    const key = await fs.readFile(path.join(dir, 'key'), 'utf8').catch(() => undefined);
    if (key !== ctx.params.key)
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: id });
    await fs.rm(dir, { recursive: true, force: true });
    ctx.status = 204;
  });
}
// ahead of s3rver's router (its last middleware), behind its XML encoding and error handling
server.middleware.splice(server.middleware.length - 1, 0, multipartUploads);

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
