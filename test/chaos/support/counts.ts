// What a fault scenario counts: each must be 0 (docs/guarantees.md says what each one means).

export interface ChaosCounts {
  /** a message a provider accepted more than once (counted at the stand-in), or charged more than once */
  duplicates: number;
  /** a message that never reached the provider, or one it accepted that our tables do not record as sent */
  lost: number;
  /** an effect on another company's rows: a reply acting on its appointment, a text from its own number */
  wrong_tenant: number;
  /** work left behind: messages in scheduled / sending / unknown once all settled, credits still reserved */
  stuck: number;
}

export interface ChaosScenario {
  name: string;
  /** part of the short form (`npm run chaos -- --short`, run by CI) */
  short: boolean;
  /** how long the scenario may run before it fails as hung (the runner's default: 600 s) */
  timeoutSeconds?: number;
  run(): Promise<ChaosCounts>;
}

export const ZERO: ChaosCounts = { duplicates: 0, lost: 0, wrong_tenant: 0, stuck: 0 };

export function addCounts(a: ChaosCounts, b: ChaosCounts): ChaosCounts {
  return {
    duplicates: a.duplicates + b.duplicates,
    lost: a.lost + b.lost,
    wrong_tenant: a.wrong_tenant + b.wrong_tenant,
    stuck: a.stuck + b.stuck,
  };
}

export const isClean = (c: ChaosCounts) => c.duplicates + c.lost + c.wrong_tenant + c.stuck === 0;
