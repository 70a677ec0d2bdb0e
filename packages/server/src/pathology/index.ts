export { registerPathology, startPathologyMllp, startPathologyFolder } from './routes.ts';
export { pathologyMigrations } from './schema.ts';
export { startMllpListener, sendMllp } from './mllp.ts';
export { ingestHl7 } from './ingest.ts';
export { ingestFhirBundle } from './fhir-ingest.ts';
