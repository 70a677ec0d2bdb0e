/** A worker thread that validates import lines, so validation runs beside the writes on another core. */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import { parentPort } from 'node:worker_threads';
import { loadFhirDefinitions } from '@steadfast/domain';
import { checkLines } from './lines.ts';

loadFhirDefinitions();
parentPort!.on('message', (msg: { id: number; texts: string[] }) => {
  parentPort!.postMessage({ id: msg.id, problems: checkLines(msg.texts) });
});
parentPort!.postMessage({ ready: true });
