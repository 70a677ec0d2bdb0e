/**
 * The generated practice cut into write batches, each checked (all, or a sample) with validateResource.
 * Shared by the in-process seed and the seed worker thread, so both write exactly the same thing.
 */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import type { Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions, validateResource } from '@steadfast/domain';
import { generatePractice, type GenerateOptions } from './generate.ts';

export type ValidateMode = 'all' | 'sample' | 'none';

export interface SeedBatch {
  resources: Resource[];
  /** Patients generated so far, this batch included. */
  patients: number;
  /** Resources in this batch checked with validateResource. */
  validated: number;
}

export function* checkedBatches(options: GenerateOptions, batchSize: number, validate: ValidateMode): Generator<SeedBatch> {
  if (validate !== 'none') loadFhirDefinitions();
  let weekResources = 0;
  let patients = 0;
  let resources: Resource[] = [];
  let validated = 0;
  for (const resource of generatePractice(options)) {
    if (resource.resourceType === 'Patient') patients++;
    // The practice and staff come before the first patient; schedules, slots and appointments after the last.
    const week = resource.resourceType === 'Schedule' || resource.resourceType === 'Slot' || resource.resourceType === 'Appointment';
    if (week) weekResources++;
    const sampled = week ? weekResources <= 50 : patients <= 20 || patients % 100 === 0;
    if (validate === 'all' || (validate === 'sample' && sampled)) {
      validateResource(resource);
      validated++;
    }
    resources.push(resource);
    if (resources.length >= batchSize) {
      yield { resources, patients, validated };
      resources = [];
      validated = 0;
    }
  }
  if (resources.length) yield { resources, patients, validated };
}
