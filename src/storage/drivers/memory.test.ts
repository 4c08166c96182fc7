/** The in-memory driver against the shared storage driver conformance suite. */
import { withPathValidation } from '../base.ts';
import { runDriverConformance } from '../conformance.ts';
import { MemoryDriver } from './memory.ts';

runDriverConformance('inmemory', async () => ({
  driver: withPathValidation(new MemoryDriver()),
  cleanup: async () => undefined,
}));
