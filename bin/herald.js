#!/usr/bin/env node
// The `herald` command: runs the TypeScript CLI through tsx from wherever it is called.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/herald.ts');
