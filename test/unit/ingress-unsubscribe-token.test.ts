import { describe, expect, it } from 'vitest';
import { unsubscribeToken, verifyUnsubscribeToken } from '../../lib/unsubscribe-token';
import { snsStringToSign, isSnsUrl, type SnsMessage } from '../../lib/ingress/sns';

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
