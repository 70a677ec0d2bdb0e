// Entry of a backup worker thread: registers tsx (workers do not inherit loader hooks) and writes one backup.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { writeBackupSync } = await import('./backup.ts');
try {
  parentPort.postMessage({ ok: true, info: writeBackupSync(workerData.source, workerData.key, workerData.dir) });
} catch (err) {
  parentPort.postMessage({ ok: false, error: { message: String(err?.message ?? err), code: err?.code, hint: err?.hint, field: err?.field, steadfast: err?.name === 'SteadfastError' } });
}
