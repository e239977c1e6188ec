// A closed gate a stand-in holds its answers at until the test opens it.

export interface Gate {
  /** settles when the gate is opened */
  opened: Promise<void>;
  open(): void;
}

export function closedGate(): Gate {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
