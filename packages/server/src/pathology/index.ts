/**
 * Pathology: requests and their forms, results in (MLLP, drop folder, FHIR) through the durable
 * inbox, the results inbox for clinicians, and orders out to the laboratory. See README.md.
 */
import type { Capability } from '../capability.ts';
import { pathologyBacklog } from './backlog.ts';
import { pathologyCli } from './options.ts';
import { registerPathology } from './routes.ts';
import { pathologyMigrations } from './tables.ts';
import { pathologyServices } from './services.ts';
import { labOrderChannel } from './orm.ts';
import { labConnectionOf } from './requests.ts';

export type { PathologyOptions } from './options.ts';
export { startPathologyMllp, startPathologyFolder } from './routes.ts';
export { startMllpListener } from './mllp.ts';
export { sendMllp } from './mllp-client.ts';
export { ingestHl7 } from './ingest.ts';
export { ingestFhirBundle } from './fhir-ingest.ts';

export const pathology: Capability = {
  name: 'pathology',
  migrations: pathologyMigrations,
  routes: registerPathology,
  services: pathologyServices,
  backlog: pathologyBacklog,
  cli: pathologyCli,
  outboxChannels(deps) {
    const lab = labConnectionOf(deps.config);
    return lab ? [labOrderChannel(lab)] : [];
  },
};
