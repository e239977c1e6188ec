import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../lib/sources/glob';
import { DEDUPE_KEYS, rawObjectKey } from '../../lib/sources/raw-keys';
import { scheduleSpecFor } from '../../lib/sources/schedule';
import {
  DEFAULT_SECRET_ENV_PREFIXES,
  envTemplate,
  readSecret,
  resolveValues,
} from '../../lib/sources/secrets';
import { sshFingerprint } from '../../lib/sources/sftp';
import { formatZodIssues } from '../../schemas/load-map';
import { ingestSourceSchema } from '../../schemas/ingest-source';

const problems = (input: unknown) => {
  const parsed = ingestSourceSchema.safeParse(input);
  return parsed.success ? [] : formatZodIssues(parsed.error).split('; ');
};
const fingerprint = 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';
const sftp = {
  host: 'sftp.acme.example',
  username: 'herald',
  passwordEnv: 'HERALD_SECRET_ACME_SFTP_PASSWORD',
  hostKeySha256: fingerprint,
};

describe('a source definition', () => {
  it('fills defaults per kind', () => {
    expect(
      ingestSourceSchema.parse({ name: 'drop', kind: 's3', config: { bucket: 'acme-exports' } }),
    ).toEqual({
      name: 'drop',
      kind: 's3',
      config: { bucket: 'acme-exports', prefix: '', glob: '*' },
      schedule: null,
      loadMap: null,
      refreshMode: 'append',
      onDrift: 'hold',
      onGarbledText: 'warn',
      active: true,
    });
    expect(ingestSourceSchema.parse({ name: 'sftp', kind: 'sftp', config: sftp }).config).toMatchObject({
      port: 22,
      directory: '.',
      glob: '*',
    });
  });

  it('keeps secrets out: header and query values that carry them must be env references', () => {
    const api = (config: Record<string, unknown>) => ({
      name: 'api',
      kind: 'api',
      config: { url: 'https://api.acme.example/v1/export', format: 'csv', ...config },
    });
    expect(problems(api({ headers: { Authorization: 'Bearer abc' } }))[0]).toMatch(
      /^config\.headers\.Authorization: header Authorization carries a secret/,
    );
    expect(problems(api({ headers: { 'X-Api-Key': 'abc' } }))[0]).toMatch(
      /^config\.headers\.X-Api-Key: header X-Api-Key carries a secret/,
    );
    expect(problems(api({ query: { access_token: 'abc' } }))[0]).toMatch(
      /^config\.query\.access_token: query parameter access_token carries a secret/,
    );
    expect(
      problems({
        ...api({}),
        config: { ...api({}).config, url: 'https://api.acme.example/x?api_key=abc' },
      })[0],
    ).toMatch(/^config\.url: has a secret in its query string/);
    expect(
      problems(
        api({
          headers: {
            Authorization: { env: 'HERALD_SECRET_ACME_API_TOKEN', prefix: 'Bearer ' },
            Accept: 'text/csv',
          },
        }),
      ),
    ).toEqual([]);
    expect(problems(api({ headers: { Authorization: { env: 'acme-token' } } }))[0]).toMatch(
      /must be an environment variable name/,
    );
  });

  it('takes https, and plain http only to this machine', () => {
    const api = (url: string) => ({ name: 'api', kind: 'api', config: { url, format: 'json' } });
    expect(problems(api('http://api.acme.example/export'))[0]).toBe(
      'config.url: must be an https URL (http is accepted only for localhost)',
    );
    expect(problems(api('http://127.0.0.1:8080/export'))).toEqual([]);
    expect(problems(api('ftp://acme.example/export'))[0]).toMatch(/must be an https URL/);
  });

  it('needs exactly one SFTP credential and a host key fingerprint as ssh-keygen prints it', () => {
    expect(problems({ name: 's', kind: 'sftp', config: { ...sftp, privateKeyFile: '/keys/acme' } })).toEqual([
      'config.passwordEnv: needs exactly one of passwordEnv, privateKeyEnv, privateKeyFile',
    ]);
    expect(problems({ name: 's', kind: 'sftp', config: { ...sftp, passwordEnv: undefined } })).toEqual([
      'config.passwordEnv: needs exactly one of passwordEnv, privateKeyEnv, privateKeyFile',
    ]);
    expect(
      problems({
        name: 's',
        kind: 'sftp',
        config: { ...sftp, hostKeySha256: 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48' },
      })[0],
    ).toMatch(/^config\.hostKeySha256: must be a SHA256 fingerprint/);
    expect(problems({ name: 's', kind: 'sftp', config: { ...sftp, glob: 'out/*.csv' } })[0]).toMatch(
      /cannot contain \//,
    );
  });

  it('refuses unknown keys, so a typo is not silently ignored', () => {
    expect(
      problems({ name: 'drop', kind: 's3', config: { bucket: 'acme-exports', prefx: 'in/' } })[0],
    ).toMatch(/^config: Unrecognized key: "prefx"/);
  });

  it('checks the schedule: an interval or five cron fields', () => {
    const s3 = (schedule: string) => ({
      name: 'drop',
      kind: 's3',
      config: { bucket: 'acme-exports' },
      schedule,
    });
    expect(problems(s3('15m'))).toEqual([]);
    expect(problems(s3('0 6 * * 1-5'))).toEqual([]);
    expect(problems(s3('every day'))[0]).toMatch(/^schedule: must be an interval such as 15m/);
  });
});

describe('schedules', () => {
  it('turns intervals and cron expressions into Temporal schedule specs, cron in the company time zone', () => {
    expect(scheduleSpecFor('15m', 'America/Chicago')).toEqual({ intervals: [{ every: '15m' }] });
    expect(scheduleSpecFor(' 0 6 * * 1-5 ', 'America/Chicago')).toEqual({
      cronExpressions: ['0 6 * * 1-5'],
      timezone: 'America/Chicago',
    });
  });
});

describe('secrets', () => {
  it('reads env references at use, naming a missing variable and what it is for', () => {
    const secrets = { env: { HERALD_SECRET_ACME_API_TOKEN: 't0k' }, prefixes: DEFAULT_SECRET_ENV_PREFIXES };
    expect(
      resolveValues(
        { Authorization: { env: 'HERALD_SECRET_ACME_API_TOKEN', prefix: 'Bearer ' }, Accept: 'text/csv' },
        'header',
        secrets,
      ),
    ).toEqual({ Authorization: 'Bearer t0k', Accept: 'text/csv' });
    expect(() => readSecret('HERALD_SECRET_ACME_SFTP_PASSWORD', 'the SFTP password', secrets)).toThrow(
      'the environment variable HERALD_SECRET_ACME_SFTP_PASSWORD (the SFTP password) is not set on this worker',
    );
  });

  it('reads only variables with an allowed prefix, whatever the environment holds', () => {
    const secrets = {
      env: { TWILIO_AUTH_TOKEN: 'herald-own', DATABASE_URL: 'postgres://u:p@h/db', ACME_TOKEN: 'x' },
      prefixes: ['HERALD_SECRET_', 'ACME_'],
    };
    for (const variable of ['TWILIO_AUTH_TOKEN', 'DATABASE_URL'])
      expect(() => resolveValues({ 'X-Token': { env: variable } }, 'header', secrets)).toThrow(
        new RegExp(
          `the environment variable ${variable} may not be read as a secret: its name must start with HERALD_SECRET_ or ACME_ \\(SECRET_ENV_PREFIXES\\) \\(header X-Token\\)`,
        ),
      );
    expect(readSecret('ACME_TOKEN', 'a header', secrets)).toBe('x');
    const refused = (() => {
      try {
        readSecret('TWILIO_AUTH_TOKEN', 'the webhook secret', {
          ...secrets,
          prefixes: DEFAULT_SECRET_ENV_PREFIXES,
        });
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toMatchObject({ type: 'SecretNotAllowed', permanent: true });
  });

  it('reads {env:NAME} on the command line as a reference', () => {
    expect(envTemplate('Bearer {env:HERALD_SECRET_ACME_API_TOKEN}')).toEqual({
      env: 'HERALD_SECRET_ACME_API_TOKEN',
      prefix: 'Bearer ',
    });
    expect(envTemplate('{env:HERALD_SECRET_ACME_KEY}')).toEqual({ env: 'HERALD_SECRET_ACME_KEY' });
    expect(envTemplate('text/csv')).toBe('text/csv');
  });
});

describe('file names', () => {
  it('matches globs on file names', () => {
    const csv = compileGlob('appointments-*.{csv,CSV}');
    expect(['appointments-2027-03.csv', 'appointments-x.CSV'].every(csv)).toBe(true);
    expect(['appointments.csv', 'appointments-1.csv.bak', 'old/appointments-1.csv'].some(csv)).toBe(false);
    expect(compileGlob('roster_20[0-9][0-9]?.xlsx')('roster_2027a.xlsx')).toBe(true);
    expect(compileGlob('[!.]*')('.hidden')).toBe(false);
    expect(compileGlob('a+b(1).csv')('a+b(1).csv')).toBe(true);
  });

  it('keeps raw keys inside the company folder whatever the remote path says, one folder per file version', () => {
    const key = rawObjectKey(
      'demo-clinic',
      'acme-sftp',
      DEDUPE_KEYS.sftp('uuid', '/out/a.csv', 10, 1),
      '../../etc/pass wd',
    );
    expect(key).toMatch(/^raw\/demo-clinic\/acme-sftp\/[0-9a-f]{16}\/etc\/pass_wd$/);
    expect(rawObjectKey('c', 's', 'v1', 'a.csv')).not.toBe(rawObjectKey('c', 's', 'v2', 'a.csv'));
    expect(rawObjectKey('c', 's', 'v1', 'a.csv')).toBe(rawObjectKey('c', 's', 'v1', 'a.csv'));
  });

  it('fingerprints a host key as ssh-keygen -lf does', () => {
    // the fingerprint is what `ssh-keygen -lf` printed for this public key
    const key = ssh2.utils.parseKey(
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhRx8M8Vw3j3mI8+Rn0mmt4oWGJDaA5m7sAL0SKu1Fb',
    ) as ssh2.ParsedKey;
    expect(sshFingerprint(key.getPublicSSH())).toBe('SHA256:VwtlfItBS3D15U3W3IEyfCz4o0M35az/OOc9ARcvzf8');
  });
});
