/**
 * One place where failures become HTTP responses. Expected failures are SteadfastErrors and keep
 * their status; fastify's own validation, JSON parse and body-size errors become 4xx with a message
 * that names the problem; anything else is a 500 that tells the caller nothing about internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SteadfastError, isSteadfastError } from '@steadfast/domain';
import type { OperationOutcome } from '@medplum/fhirtypes';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Turn any thrown value into a SteadfastError that is safe to show to the caller. */
export function toSteadfastError(err: unknown): SteadfastError {
  if (isSteadfastError(err)) return err;
  const e = err as Partial<FastifyError> & { message?: string };
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SteadfastError('too-large', 'The request body is larger than this server accepts', {
        hint: 'Split the data into smaller requests (e.g. several transaction Bundles) or use `steadfast import`',
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SteadfastError('invalid', `The body is not valid JSON: ${e.message ?? ''}`.trim(), { hint: 'Send one JSON object' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SteadfastError('not-supported', `This route does not take a body of this Content-Type (${e.message ?? ''})`, {
        field: 'Content-Type',
        hint: 'Send JSON as application/fhir+json or application/json',
      });
    case 'FST_ERR_VALIDATION':
      return new SteadfastError('invalid', e.message ?? 'The request is not valid');
  }
  if (err instanceof SyntaxError) {
    return new SteadfastError('invalid', `The body is not valid JSON: ${err.message}`, { hint: 'Send one JSON object' });
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = e.statusCode === 413 ? 'too-large' : e.statusCode === 404 ? 'not-found' : e.statusCode === 415 ? 'not-supported' : 'invalid';
    return new SteadfastError(code, e.message ?? 'Bad request');
  }
  return new SteadfastError('internal', 'The server could not complete the request', {
    hint: 'The error has been logged; try again, and tell the practice administrator if it persists',
  });
}

export function outcomeFor(err: unknown): { status: number; outcome: OperationOutcome } {
  const se = toSteadfastError(err);
  // A body in a media type the route does not take is 415 (the FHIR code is still not-supported).
  const status = (err as Partial<FastifyError> | undefined)?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 415 : se.httpStatus;
  return { status, outcome: se.toOperationOutcome() };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, outcome } = outcomeFor(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    void reply.code(status).type(FHIR_JSON).send(outcome);
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new SteadfastError('not-found', `No route for ${request.method} ${request.url.split('?')[0]}`, {
      hint: 'FHIR lives under /fhir/R4; other APIs under /api',
    });
    void reply.code(404).type(FHIR_JSON).send(err.toOperationOutcome());
  });
}
