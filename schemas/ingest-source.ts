// The zod schemas of an ingest source: one config shape per kind, secrets only as environment-variable names.
import { z } from 'zod';

/** A reference to a secret kept in the environment: only the variable's name is ever stored. */
export const envVarName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as ACME_SFTP_PASSWORD');

export const envRef = z.strictObject({
  env: envVarName,
  /** put before the variable's value, e.g. "Bearer " */
  prefix: z.string().optional(),
});
export type EnvRef = z.infer<typeof envRef>;

// Header and parameter names that carry credentials: a literal value for them would put a secret in the database.
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|key|token|secret|password|signature/i;

/** Names (of headers or query parameters) whose literal value would put a secret in the database. */
const secretValues = (kind: string, example: string) =>
  z
    .record(z.string().min(1), z.union([z.string(), envRef]))
    .default({})
    .superRefine((all, ctx) => {
      for (const [name, value] of Object.entries(all)) {
        if (typeof value === 'string' && SECRET_HEADER.test(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `${kind} ${name} carries a secret: reference an environment variable instead, e.g. ${example}`,
          });
        }
      }
    });

/** A key prefix: no leading slash; empty means the whole bucket. */
const keyPrefix = z
  .string()
  .default('')
  .refine((p) => !p.startsWith('/'), { message: 'must not start with /' });

const glob = z
  .string()
  .min(1)
  .refine((g) => !g.includes('/'), {
    message: 'matches file names in the directory, so it cannot contain /',
  });

export const s3SourceConfig = z
  .strictObject({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
    prefix: keyPrefix,
    /** only objects whose name (after the prefix) matches are taken; default every object */
    glob: glob.default('*'),
    /** another account or S3-compatible server; unset = the same S3 herald uses */
    endpoint: z.url().optional(),
    region: z.string().optional(),
    accessKeyIdEnv: envVarName.optional(),
    secretAccessKeyEnv: envVarName.optional(),
  })
  .refine((c) => !c.accessKeyIdEnv === !c.secretAccessKeyEnv, {
    message: 'accessKeyIdEnv and secretAccessKeyEnv go together',
    path: ['secretAccessKeyEnv'],
  });

/** The most megabytes one file of the source may have; unset = the worker's SOURCE_MAX_FILE_MB. */
const maxFileMB = z.number().int().positive().max(10_000_000).optional();

export const sha256Fingerprint = z
  .string()
  .regex(
    /^SHA256:[A-Za-z0-9+/]{43}$/,
    'must be a SHA256 fingerprint as `ssh-keygen -lf` prints it, e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
  );

export const sftpSourceConfig = z
  .strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    passwordEnv: envVarName.optional(),
    privateKeyEnv: envVarName.optional(),
    /** a path on the worker's machine, e.g. a mounted secret */
    privateKeyFile: z.string().min(1).optional(),
    passphraseEnv: envVarName.optional(),
    /** the server's host key: anything else is refused before a password or key is offered */
    hostKeySha256: sha256Fingerprint,
    directory: z.string().min(1).default('.'),
    glob: glob.default('*'),
    maxFileMB,
  })
  .refine((c) => [c.passwordEnv, c.privateKeyEnv, c.privateKeyFile].filter(Boolean).length === 1, {
    message: 'needs exactly one of passwordEnv, privateKeyEnv, privateKeyFile',
    path: ['passwordEnv'],
  });

const httpUrl = z.url().refine(
  (u) => {
    const url = new URL(u);
    // plain http only to this machine (a sidecar or a tunnel); anything else travels encrypted
    return (
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))
    );
  },
  { message: 'must be an https URL (http is accepted only for localhost)' },
);

export const apiSourceConfig = z.strictObject({
  /** without secrets: a token in the query string goes in `query` as an env reference */
  url: httpUrl.refine((u) => ![...new URL(u).searchParams.keys()].some((k) => SECRET_HEADER.test(k)), {
    message: 'has a secret in its query string: move it to "query" as {"env": "VARIABLE"}',
  }),
  headers: secretValues('header', '{"Authorization": {"env": "ACME_API_TOKEN", "prefix": "Bearer "}}').refine(
    (h) => Object.keys(h).every((n) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(n)),
    { message: "header names may hold only letters, digits and !#$%&'*+.^_`|~-" },
  ),
  /** query parameters added to the URL, secrets by env reference */
  query: secretValues('query parameter', '{"api_key": {"env": "ACME_API_KEY"}}'),
  format: z.enum(['csv', 'json', 'ndjson']),
  /** a PEM file of a private certificate authority the server's certificate is signed by */
  caFile: z.string().min(1).optional(),
  timeoutSeconds: z.number().int().positive().max(3600).default(300),
  maxFileMB,
  /** hosts a redirect may lead to whatever their address (an internal host); others: https, public only */
  redirectHosts: z.array(z.string().min(1)).default([]),
});

export const uploadSourceConfig = z.strictObject({});

export const SOURCE_KINDS = ['s3', 'sftp', 'api', 'upload'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Either a cron expression (5 fields, in UTC) or an interval such as 15m, 1h, 1d. */
export const sourceSchedule = z
  .string()
  .trim()
  .refine((s) => /^\d+(s|m|h|d)$/.test(s) || s.split(/\s+/).length === 5, {
    message: 'must be an interval such as 15m, 1h, 1d or a 5-field cron expression such as "0 6 * * *"',
  });

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _'),
  schedule: sourceSchedule.nullable().default(null),
  /** the company's load map: name (follows its active version) or name@version (that version only) */
  loadMap: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}(@v?\d+)?$/, 'must be a load map name, or name@version')
    .nullable()
    .default(null),
  refreshMode: z.enum(['append', 'full_refresh']).default('append'),
  /**
   * A file whose header differs from the load map's (a new, missing or renamed column): `hold` the
   * packet for an operator with the difference, or `evolve`: load it, new columns kept as extras (a
   * missing required column still holds it).
   */
  onDrift: z.enum(['hold', 'evolve']).default('hold'),
  /** Text that looks like UTF-8 read as Windows-1252 ("JosÃ©"): `warn` and load it, or `hold` the packet. */
  onGarbledText: z.enum(['warn', 'hold']).default('warn'),
  active: z.boolean().default(true),
};

/** A source as an operator writes it (`herald sources add --file`), checked per kind. */
export const ingestSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...common, kind: z.literal('s3'), config: s3SourceConfig }),
  z.strictObject({ ...common, kind: z.literal('sftp'), config: sftpSourceConfig }),
  z.strictObject({ ...common, kind: z.literal('api'), config: apiSourceConfig }),
  z.strictObject({ ...common, kind: z.literal('upload'), config: uploadSourceConfig.default({}) }),
]);

export type IngestSourceInput = z.input<typeof ingestSourceSchema>;
export type IngestSource = z.infer<typeof ingestSourceSchema>;
export type S3SourceConfig = z.infer<typeof s3SourceConfig>;
export type SftpSourceConfig = z.infer<typeof sftpSourceConfig>;
export type ApiSourceConfig = z.infer<typeof apiSourceConfig>;
