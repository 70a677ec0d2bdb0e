/**
 * Validation at the boundary: every resource is checked against the FHIR R4 structure definitions
 * (via @medplum/core) and then against Steadfast's UK general practice rules. Errors name the element
 * and say how to fix it; all problems in one resource are reported together.
 */
import { validateResource as validateStructure, OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { combineErrors, SteadfastError } from '../errors.ts';
import { explainInvalidNhsNumber, NHS_NUMBER_SYSTEM } from '../nhs-number.ts';
import { clinicalRuleErrors, compileClinicalRules, type ClinicalRuleOptions } from './clinical-rules.ts';
import { isSupportedResourceType, resourceTypes } from './resource-types.ts';
import { loadFhirDefinitions, onFhirDefinitions } from './definitions.ts';

export type ValidateOptions = ClinicalRuleOptions;

// Once the definitions are loaded, compile from them the binding, date and reference rules of every
// type Steadfast stores (value sets expanded once).
onFhirDefinitions(() => compileClinicalRules(resourceTypes));
export { loadFhirDefinitions };

export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';

/** An id as FHIR allows: 1-64 of A-Z a-z 0-9 - . */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

function ukRules(resource: Record<string, any>): SteadfastError[] {
  const errors: SteadfastError[] = [];
  const type = resource.resourceType as string;
  const identifiers: any[] = Array.isArray(resource.identifier) ? resource.identifier : [];
  identifiers.forEach((id, i) => {
    if (id?.system === NHS_NUMBER_SYSTEM) {
      const why = typeof id.value === 'string' ? explainInvalidNhsNumber(id.value) : 'NHS number identifier has no value';
      if (why) errors.push(new SteadfastError('invalid', why, { field: `${type}.identifier[${i}].value`, hint: 'Check the number with the patient or their NHS card' }));
      else if (/\s|-/.test(id.value)) {
        errors.push(new SteadfastError('invalid', `NHS number "${id.value}" must be stored as 10 digits without spaces`, { field: `${type}.identifier[${i}].value`, hint: 'Send it as e.g. 9991234564' }));
      }
    }
  });
  if (type === 'Patient') {
    const names: any[] = Array.isArray(resource.name) ? resource.name : [];
    if (!names.some((n) => n?.family || n?.text)) {
      errors.push(new SteadfastError('required', 'Patient.name needs a family name', { field: 'Patient.name', hint: 'Give at least name[0].family' }));
    }
  }
  if (resource.id !== undefined && (typeof resource.id !== 'string' || !FHIR_ID.test(resource.id))) {
    errors.push(new SteadfastError('invalid', `id "${resource.id}" is not a FHIR id (1-64 letters, digits, '-' or '.')`, { field: `${type}.id` }));
  }
  return errors;
}

function outcomeToErrors(err: OperationOutcomeError, type: string): SteadfastError[] {
  return (err.outcome.issue ?? []).map(
    (issue) =>
      new SteadfastError('invalid', issue.details?.text ?? issue.diagnostics ?? 'invalid', {
        field: issue.expression?.[0] ?? type,
      }),
  );
}

/**
 * Throws one SteadfastError listing every problem, or returns the resource typed as a FHIR Resource.
 * `resourceType` must be one Steadfast stores. Checks, in order: the FHIR R4 structure (types,
 * cardinality, formats), required value-set bindings, real calendar dates, reference target types,
 * Patient date rules (see clinical-rules.ts), then the UK rules.
 */
export function validateResource(input: unknown, expectedType?: string, options: ValidateOptions = {}): Resource {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new SteadfastError('invalid', 'The body must be a JSON object holding one FHIR resource', { hint: 'Send {"resourceType": "...", ...}' });
  }
  const resource = input as Record<string, any>;
  const type = resource.resourceType;
  if (typeof type !== 'string') {
    throw new SteadfastError('required', 'resourceType is required', { field: 'resourceType', hint: 'Add e.g. "resourceType": "Patient"' });
  }
  if (!isSupportedResourceType(type)) {
    throw new SteadfastError('not-supported', `Resource type "${type}" is not one Steadfast stores`, {
      field: 'resourceType',
      hint: `Use one of: ${resourceTypes.join(', ')}`,
    });
  }
  if (expectedType && type !== expectedType) {
    throw new SteadfastError('invalid', `The body is a ${type} but the URL is for ${expectedType}`, { field: 'resourceType' });
  }
  loadFhirDefinitions();
  const errors: SteadfastError[] = [];
  try {
    validateStructure(resource as Resource);
  } catch (err) {
    if (err instanceof OperationOutcomeError) errors.push(...outcomeToErrors(err, type));
    else throw err;
  }
  // One problem per element: a value the structure validation already rejected (e.g. a malformed date) is not reported twice.
  const structural = new Set(errors.map((e) => e.field));
  errors.push(...clinicalRuleErrors(resource, options).filter((e) => !structural.has(e.field)));
  errors.push(...ukRules(resource));
  if (errors.length) throw combineErrors(errors);
  return resource as Resource;
}
