// Entry of an import validation worker: registers tsx (workers do not inherit loader hooks) and loads the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./validate-worker.ts');
