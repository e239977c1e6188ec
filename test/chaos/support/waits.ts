// What a scenario is waiting for: the runner names it when the scenario runs past its time.

let waiting = 'nothing named yet';

/** Records what the scenario waits for next (a condition, a process, a server). */
export function waitingFor(what: string): void {
  waiting = what;
}

export const currentWait = (): string => waiting;
