import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveTemporalCli, TemporalCliError, TEMPORAL_CLI_VERSION } from '../../lib/runtime/temporal-cli';

let root: string;

async function executable(file: string, script = '#!/bin/sh\nexit 0\n') {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, script);
  await chmod(file, 0o755);
  return file;
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'herald-cli-'));
});

describe('finding the Temporal CLI', () => {
  it('takes TEMPORAL_CLI_PATH first', async () => {
    const explicit = await executable(path.join(root, 'custom', 'temporal'));
    await executable(path.join(root, 'pathdir', 'temporal'));
    const found = await resolveTemporalCli({ cliPath: explicit, env: { PATH: path.join(root, 'pathdir') } });
    expect(found).toEqual({ path: explicit, source: 'TEMPORAL_CLI_PATH' });
  });

  it('refuses a TEMPORAL_CLI_PATH that does not exist, saying what to do', async () => {
    await expect(resolveTemporalCli({ cliPath: path.join(root, 'nope'), env: {} })).rejects.toThrow(
      /TEMPORAL_CLI_PATH points at .*nope, which does not exist\. Fix or unset it/,
    );
  });

  it('refuses a TEMPORAL_CLI_PATH that is not executable', async () => {
    const file = path.join(root, 'temporal');
    await writeFile(file, 'not a program');
    await expect(resolveTemporalCli({ cliPath: file, env: {} })).rejects.toThrow(
      /not executable \(chmod \+x it\)/,
    );
  });

  it('then looks on PATH', async () => {
    const onPath = await executable(path.join(root, 'b', 'temporal'));
    const found = await resolveTemporalCli({
      env: { PATH: `${path.join(root, 'a')}:${path.join(root, 'b')}` },
    });
    expect(found).toEqual({ path: onPath, source: 'PATH' });
  });

  it('then in the cache outside the repository', async () => {
    const cached = await executable(path.join(root, 'cache', 'bin', 'temporal'));
    const found = await resolveTemporalCli({ env: { PATH: '', HERALD_CACHE_DIR: path.join(root, 'cache') } });
    expect(found).toEqual({ path: cached, source: 'cache' });
  });

  it('builds it with Go into the cache, saying so first', async () => {
    // a stand-in `go` that "installs" by writing the binary into GOBIN, and records its arguments
    const log = path.join(root, 'go-args');
    await executable(
      path.join(root, 'gobin', 'go'),
      `#!/bin/sh\necho "$@" > ${log}\nprintf '#!/bin/sh\\n' > "$GOBIN/temporal"\n/bin/chmod +x "$GOBIN/temporal"\n`,
    );
    const notices: string[] = [];
    const found = await resolveTemporalCli({
      env: { PATH: path.join(root, 'gobin'), HERALD_CACHE_DIR: path.join(root, 'cache') },
      notice: (m) => notices.push(m),
    });
    expect(found).toEqual({ path: path.join(root, 'cache', 'bin', 'temporal'), source: 'built' });
    expect(notices.join()).toContain('takes a few minutes');
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(log, 'utf8')).trim()).toBe(
      `install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`,
    );
  });

  it('explains a failed build', async () => {
    await executable(
      path.join(root, 'gobin', 'go'),
      '#!/bin/sh\necho "proxy.golang.org: no such host" >&2\nexit 1\n',
    );
    const attempt = resolveTemporalCli({
      env: { PATH: path.join(root, 'gobin'), HERALD_CACHE_DIR: path.join(root, 'cache') },
    });
    await expect(attempt).rejects.toBeInstanceOf(TemporalCliError);
    await expect(attempt).rejects.toThrow(
      /go install exited 1[\s\S]*no such host[\s\S]*set TEMPORAL_CLI_PATH/,
    );
  });

  it('returns nothing when there is no binary and no Go, so the SDK download is tried next', async () => {
    const found = await resolveTemporalCli({
      env: { PATH: path.join(root, 'empty'), HERALD_CACHE_DIR: path.join(root, 'cache') },
      build: false,
    });
    expect(found).toBeUndefined();
  });
});
