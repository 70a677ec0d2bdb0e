/** Small helpers for FHIR responses: headers from a stored version, the base URL, If-Match. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Resource } from '@medplum/fhirtypes';
import { SteadfastError } from '@steadfast/domain';
import { FHIR_JSON } from '../http/errors.ts';

const FHIR_BASE_PATH = '/fhir/R4';

export function fhirBase(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${FHIR_BASE_PATH}`;
}

const etag = (versionId: string): string => `W/"${versionId}"`;

function httpDate(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d.toUTCString();
}

/** Send one resource with ETag and Last-Modified (and Location when created). */
export function sendResource(reply: FastifyReply, resource: Resource, status = 200, base?: string): FastifyReply {
  const versionId = resource.meta?.versionId;
  if (versionId) void reply.header('ETag', etag(versionId));
  const lm = httpDate(resource.meta?.lastUpdated);
  if (lm) void reply.header('Last-Modified', lm);
  if (status === 201 && base && versionId) void reply.header('Location', `${base}/${resource.resourceType}/${resource.id}/_history/${versionId}`);
  return reply.code(status).type(FHIR_JSON).send(resource);
}

/** `W/"abc"`, `"abc"` or `abc` → `abc`; undefined when no header; 400 when it cannot be read. */
export function parseIfMatch(header: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw === '') return undefined;
  const m = /^\s*(?:W\/)?"?([A-Za-z0-9\-.]{1,64})"?\s*$/.exec(raw);
  if (!m) throw new SteadfastError('invalid', `If-Match "${raw}" is not a version tag`, { field: 'If-Match', hint: 'Send the ETag you read, e.g. W/"<versionId>"' });
  return m[1];
}
