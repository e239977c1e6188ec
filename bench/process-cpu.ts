// CPU used so far by this process and every process under it (the embedded servers, stand-ins), by part, from /proc.
import { readdir, readFile } from 'node:fs/promises';

/** CPU milliseconds (user + system) by part: `this process`, `postgres`, `temporal`, `worker`, `s3`, `receiver`, `other`. */
export type CpuByPart = Record<string, number>;

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cpuMs: number;
}

async function readProc(pid: number): Promise<Proc | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  // ppid is field 4 of stat(5); utime and stime 14 and 15, in clock ticks (100 a second on Linux)
  return { pid, ppid: Number(fields[1]), comm, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
}

async function partOf(p: Proc): Promise<string> {
  if (p.pid === process.pid) return 'this process';
  if (p.comm === 'postgres') return 'postgres';
  if (p.comm === 'temporal') return 'temporal';
  if (p.comm === 'versitygw') return 's3';
  const cmdline = await readFile(`/proc/${p.pid}/cmdline`, 'utf8').catch(() => '');
  if (cmdline.includes('workers/main.ts')) return 'worker';
  return cmdline.includes('webhook-receiver') ? 'receiver' : 'other';
}

/**
 * The CPU of this process's tree so far, summed by part. Processes that ended in between drop out,
 * so read it around a stretch in which the servers keep running (Postgres keeps its backends).
 */
export async function cpuOfProcessTree(): Promise<CpuByPart> {
  const all = (
    await Promise.all((await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map((d) => readProc(Number(d))))
  ).filter((p): p is Proc => p !== undefined);
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byPart: CpuByPart = {
    'this process': 0,
    postgres: 0,
    temporal: 0,
    worker: 0,
    s3: 0,
    receiver: 0,
    other: 0,
  };
  const stack = all.filter((p) => p.pid === process.pid);
  while (stack.length) {
    const p = stack.pop()!;
    byPart[await partOf(p)]! += p.cpuMs;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return byPart;
}

/** The CPU milliseconds each part spent between two readings of cpuOfProcessTree. */
export function cpuBetween(after: CpuByPart, before: CpuByPart): CpuByPart {
  return Object.fromEntries(Object.entries(after).map(([part, ms]) => [part, ms - (before[part] ?? 0)]));
}
