import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { GO_TOOLS, GoToolError, requireGoTool, resolveGoTool } from '../../lib/runtime/go-tools';

let root: string;

async function executable(file: string, script = '#!/bin/sh\nexit 0\n') {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, script);
  await chmod(file, 0o755);
  return file;
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'herald-go-tools-'));
});

describe('finding a Go-built program', () => {
  it('takes the variable naming it first', async () => {
    const explicit = await executable(path.join(root, 'custom', 'temporal'));
    await executable(path.join(root, 'pathdir', 'temporal'));
    const found = await resolveGoTool(GO_TOOLS.temporal, {
      env: { TEMPORAL_CLI_PATH: explicit, PATH: path.join(root, 'pathdir') },
    });
    expect(found).toEqual({ path: explicit, source: 'variable' });
  });

  it('refuses a path that does not exist, saying which variable to fix', async () => {
    await expect(
      resolveGoTool(GO_TOOLS.versitygw, { env: { VERSITYGW_PATH: path.join(root, 'nope') } }),
    ).rejects.toThrow(/VERSITYGW_PATH points at .*nope, which does not exist\. Fix or unset it/);
  });

  it('refuses a path that is not executable', async () => {
    const file = path.join(root, 'temporal');
    await writeFile(file, 'not a program');
    await expect(resolveGoTool(GO_TOOLS.temporal, { env: { TEMPORAL_CLI_PATH: file } })).rejects.toThrow(
      /not executable \(chmod \+x it\)/,
    );
  });

  it('then looks on PATH', async () => {
    const onPath = await executable(path.join(root, 'b', 'versitygw'));
    const found = await resolveGoTool(GO_TOOLS.versitygw, {
      env: { PATH: `${path.join(root, 'a')}:${path.join(root, 'b')}` },
    });
    expect(found).toEqual({ path: onPath, source: 'PATH' });
  });

  it('then in the cache outside the repository', async () => {
    const cached = await executable(path.join(root, 'cache', 'bin', 'temporal'));
    const found = await resolveGoTool(GO_TOOLS.temporal, {
      env: { PATH: '', HERALD_CACHE_DIR: path.join(root, 'cache') },
    });
    expect(found).toEqual({ path: cached, source: 'cache' });
  });

  it('builds it with go install into the cache, saying so first', async () => {
    // a stand-in `go` that "installs" by writing the package's last path element into GOBIN, and records its arguments
    const log = path.join(root, 'go-args');
    await executable(
      path.join(root, 'gobin', 'go'),
      `#!/bin/sh\necho "$@" > ${log}\nprintf '#!/bin/sh\\n' > "$GOBIN/versitygw"\n/bin/chmod +x "$GOBIN/versitygw"\n`,
    );
    const notices: string[] = [];
    const found = await resolveGoTool(GO_TOOLS.versitygw, {
      env: { PATH: path.join(root, 'gobin'), HERALD_CACHE_DIR: path.join(root, 'cache') },
      notice: (m) => notices.push(m),
    });
    expect(found).toEqual({ path: path.join(root, 'cache', 'bin', 'versitygw'), source: 'built' });
    expect(notices.join()).toContain('takes a few minutes');
    expect((await readFile(log, 'utf8')).trim()).toBe(
      `install github.com/versity/versitygw/cmd/versitygw@${GO_TOOLS.versitygw.version}`,
    );
  });

  it('builds the Compose CLI inside the repository module that pins it', async () => {
    // a stand-in `go` that writes the -o file and records its arguments and directory
    const log = path.join(root, 'go-args');
    await executable(
      path.join(root, 'gobin', 'go'),
      `#!/bin/sh\necho "$PWD $@" > ${log}\nprintf '#!/bin/sh\\n' > "$3"\n/bin/chmod +x "$3"\n`,
    );
    const found = await resolveGoTool(GO_TOOLS.compose, {
      env: { PATH: path.join(root, 'gobin'), HERALD_CACHE_DIR: path.join(root, 'cache') },
    });
    expect(found).toEqual({ path: path.join(root, 'cache', 'bin', 'docker-compose'), source: 'built' });
    const [cwd, ...args] = (await readFile(log, 'utf8')).trim().split(' ');
    expect(cwd).toMatch(/\/tools\/compose$/);
    expect(args[0]).toBe('build');
    expect(args.at(-1)).toBe('github.com/docker/compose/v5/cmd');
    expect(await readFile(path.join(cwd!, 'go.mod'), 'utf8')).toContain(
      `github.com/docker/compose/v5 ${GO_TOOLS.compose.version}`,
    );
  });

  it('explains a failed build', async () => {
    await executable(
      path.join(root, 'gobin', 'go'),
      '#!/bin/sh\necho "proxy.golang.org: no such host" >&2\nexit 1\n',
    );
    const attempt = resolveGoTool(GO_TOOLS.versitygw, {
      env: { PATH: path.join(root, 'gobin'), HERALD_CACHE_DIR: path.join(root, 'cache') },
    });
    await expect(attempt).rejects.toBeInstanceOf(GoToolError);
    await expect(attempt).rejects.toThrow(/go install exited 1[\s\S]*no such host[\s\S]*set VERSITYGW_PATH/);
  });

  it('returns nothing when there is no binary and no Go; required, that names what to install', async () => {
    const env = { PATH: path.join(root, 'empty'), HERALD_CACHE_DIR: path.join(root, 'cache') };
    expect(await resolveGoTool(GO_TOOLS.temporal, { env, build: false })).toBeUndefined();
    await expect(requireGoTool(GO_TOOLS.versitygw, { env, build: false })).rejects.toThrow(
      /versitygw .* is not installed and Go is not there to build it\. Install Go .* or set VERSITYGW_PATH/,
    );
  });
});
