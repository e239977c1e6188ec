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
}

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
  return new S3Client(config);
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
