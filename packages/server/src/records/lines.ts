/** Parsing and validating one NDJSON line, shared by the import and its validation workers. */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import type { Resource } from '@medplum/fhirtypes';
import { isSteadfastError, SteadfastError, validateResource } from '@steadfast/domain';

export function describeError(err: unknown): string {
  if (isSteadfastError(err)) {
    return [err, ...err.more].map((e) => (e.field && !e.message.includes(e.field) ? `${e.field}: ${e.message}` : e.message) + (e.hint ? ` (${e.hint})` : '')).join('; ');
  }
  return err instanceof Error ? err.message : String(err);
}

/** Parse and validate one line; throws a SteadfastError naming the problem. */
function parseLine(text: string): Resource {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SteadfastError('invalid', `not valid JSON (${(err as Error).message})`, { hint: 'Each line must hold one complete FHIR resource' });
  }
  const resource = validateResource(json);
  if (resource.resourceType === 'AuditEvent') throw new SteadfastError('forbidden', 'AuditEvent cannot be imported; the audit trail is written by the system only');
  return resource;
}

/** For each line: undefined when valid, else the problem in words. */
export function checkLines(texts: string[]): Array<string | undefined> {
  return texts.map((t) => {
    try {
      parseLine(t);
      return undefined;
    } catch (err) {
      return describeError(err);
    }
  });
}
