import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { unsubscribeToken, verifyUnsubscribeToken } from '../../lib/unsubscribe-token';
import {
  fetchBoundedText,
  isSnsCertificateUrl,
  isSnsUrl,
  sameSecret,
  snsStringToSign,
  type SnsMessage,
} from '../../lib/ingress/sns';

const uuid = '6f1c2a9e-3b7d-4e8f-9a0b-1c2d3e4f5a6b';

describe('unsubscribe tokens', () => {
  it('round-trips a signed token and refuses another secret, an altered uuid or a bare uuid', () => {
    const token = unsubscribeToken(uuid, 'secret-one-0123456789');
    expect(token).toMatch(new RegExp(`^${uuid}\\.[A-Za-z0-9_-]{32}$`));
    expect(verifyUnsubscribeToken(token, 'secret-one-0123456789')).toBe(uuid);
    expect(verifyUnsubscribeToken(token, 'secret-two-0123456789')).toBeUndefined();
    expect(
      verifyUnsubscribeToken(token.replace(uuid.slice(0, 8), '00000000'), 'secret-one-0123456789'),
    ).toBeUndefined();
    expect(verifyUnsubscribeToken(uuid, 'secret-one-0123456789')).toBeUndefined();
    expect(verifyUnsubscribeToken(`${token}.x`, 'secret-one-0123456789')).toBeUndefined();
  });

  it('uses the bare uuid when no secret is configured (the embedded outbox), and nothing else', () => {
    expect(unsubscribeToken(uuid, undefined)).toBe(uuid);
    expect(verifyUnsubscribeToken(uuid, undefined)).toBe(uuid);
    expect(verifyUnsubscribeToken(`${uuid}.abc`, undefined)).toBeUndefined();
    expect(verifyUnsubscribeToken('../../etc/passwd', undefined)).toBeUndefined();
  });
});

describe('SNS message checks', () => {
  it('accepts certificates only from SNS hosts over https', () => {
    expect(isSnsUrl('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem')).toBe(true);
    expect(isSnsUrl('https://sns.cn-north-1.amazonaws.com.cn/x.pem')).toBe(true);
    expect(isSnsUrl('http://sns.us-east-1.amazonaws.com/x.pem')).toBe(false);
    expect(isSnsUrl('https://sns.us-east-1.amazonaws.com.evil.example/x.pem')).toBe(false);
    expect(isSnsUrl('https://evil.example/sns.us-east-1.amazonaws.com')).toBe(false);
    // an S3 bucket named "sns", which anyone could own, and other amazonaws hosts that are not SNS's
    expect(isSnsUrl('https://sns.s3.amazonaws.com/SimpleNotificationService-abc.pem')).toBe(false);
    expect(isSnsUrl('https://sns.execute-api.amazonaws.com/x.pem')).toBe(false);
    expect(isSnsUrl('https://sns.us-gov-west-1.amazonaws.com/x.pem')).toBe(true);
    expect(isSnsUrl('https://sns.us-east-1.amazonaws.com:8443/x.pem')).toBe(false);
  });

  it('takes a signing certificate only at the path SNS gives its certificates', () => {
    const cert =
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
    expect(isSnsCertificateUrl(cert)).toBe(true);
    expect(isSnsCertificateUrl(`${cert}?n=1`)).toBe(false);
    expect(isSnsCertificateUrl('https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription')).toBe(
      false,
    );
    expect(isSnsCertificateUrl('https://sns.eu-west-1.amazonaws.com/other.pem')).toBe(false);
  });

  it('compares the subscription secret without a shortcut, refusing a missing one', () => {
    expect(sameSecret('s3cret-value', 's3cret-value')).toBe(true);
    expect(sameSecret('s3cret-valuf', 's3cret-value')).toBe(false);
    expect(sameSecret('s3cret', 's3cret-value')).toBe(false);
    expect(sameSecret(null, '')).toBe(false);
  });

  it('reads an answer only up to its limit, and follows no redirect', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/moved') return void res.writeHead(302, { location: '/endless' }).end();
      res.writeHead(200);
      const more = () => {
        while (res.write(Buffer.alloc(16 * 1024, 'x')));
      };
      res.on('drain', more);
      res.on('close', () => res.off('drain', more));
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(fetchBoundedText(`${base}/endless`, 64 * 1024)).rejects.toThrow(
        /answered more than 65536 bytes/,
      );
      await expect(fetchBoundedText(`${base}/moved`, 64 * 1024)).rejects.toThrow();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('builds the string to sign in the documented field order', () => {
    const m = {
      Type: 'Notification',
      MessageId: 'id',
      TopicArn: 'arn',
      Message: 'm',
      Timestamp: 't',
      Subject: 's',
    } as SnsMessage;
    expect(snsStringToSign(m)).toBe(
      'Message\nm\nMessageId\nid\nSubject\ns\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n',
    );
    const { Subject: _s, ...noSubject } = m;
    expect(snsStringToSign(noSubject as SnsMessage)).toBe(
      'Message\nm\nMessageId\nid\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n',
    );
  });
});
