// The S3 client herald uses everywhere: endpoint + path style, exactly as for AWS or MinIO.
import { CreateBucketCommand, HeadBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

// herald supports Node 20 until its LTS ends; the SDK's yearly notice about it is not news to operators
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3Settings {
  /** undefined or 'aws' = AWS's own endpoint for the region */
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** the encryption at rest asked for on every object herald writes (undefined = AES256) */
  serverSideEncryption?: ServerSideEncryption;
}

/** `AES256` (the store's own keys), `aws:kms` (with a key id, or the account's default key), or `none`. */
export interface ServerSideEncryption {
  mode: 'AES256' | 'aws:kms' | 'none';
  kmsKeyId?: string;
}

/** The commands that create an object: each asks for server-side encryption unless it says otherwise. */
const CREATING_COMMANDS = new Set(['PutObjectCommand', 'CreateMultipartUploadCommand', 'CopyObjectCommand']);

export function createS3Client(s: S3Settings): S3Client {
  const config: S3ClientConfig = {
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    // local S3 servers do not speak the newer default checksums
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (s.endpoint && s.endpoint !== 'aws') config.endpoint = s.endpoint;
  if (s.accessKeyId && s.secretAccessKey) {
    config.credentials = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
  }
  const client = new S3Client(config);
  const sse = s.serverSideEncryption ?? { mode: 'AES256' };
  if (sse.mode !== 'none') {
    // one place for every write path (PutObject, multipart uploads, lib-storage's Upload, copies), so a
    // path added later cannot forget it; any S3-compatible server takes the header
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ServerSideEncryption?: string; SSEKMSKeyId?: string };
        if (CREATING_COMMANDS.has(context.commandName ?? '') && input.ServerSideEncryption === undefined) {
          input.ServerSideEncryption = sse.mode;
          if (sse.mode === 'aws:kms' && sse.kmsKeyId) input.SSEKMSKeyId = sse.kmsKeyId;
        }
        return next(args);
      },
      { step: 'initialize', name: 'heraldServerSideEncryption' },
    );
  }
  return client;
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return false;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) {
      throw new Error(
        `S3 bucket ${bucket} is not reachable: ${(err as Error).name} ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return true;
}
