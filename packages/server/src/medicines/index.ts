/**
 * Medicines: prescribing acute and repeat items as FHIR MedicationRequests coded with dm+d, with the
 * safety checks (allergy, duplicate, interaction, dose) re-run on every submit, overrides recorded,
 * repeats issued and re-authorised. Everything is written through the record's write path, so it is in
 * the change log and syncs. See docs/medicines.md.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps, Capability } from '../capability.ts';
import { registerCatalogue } from './catalogue.ts';
import { nodeMedicines } from './knowledge.ts';
import { medicinesCli } from './options.ts';
import { withPrescriptionsOut } from './out-capability.ts';
import { registerPrescribing } from './prescribe.ts';

async function routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  registerCatalogue(app, nodeMedicines(deps));
  registerPrescribing(app, deps, nodeMedicines(deps));
}

export const medicines: Capability = withPrescriptionsOut({
  name: 'medicines',
  cli: medicinesCli,
  routes,
});
