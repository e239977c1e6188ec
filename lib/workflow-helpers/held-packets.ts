// The failure types of a packet's ingest that hold it for an operator instead of failing it (pure: workflows read it).

/** IngestProblem kinds (ApplicationFailure types) after which the packet is held, not failed. */
export const HOLDING_PROBLEMS: readonly string[] = ['HeaderDrift', 'GarbledText'];
