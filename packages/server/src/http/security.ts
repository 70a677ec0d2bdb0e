/**
 * HTTP-layer hardening shared by every route:
 *
 * - Body parsers: only JSON (application/json, application/fhir+json, application/json+fhir) is
 *   parsed here, nested at most MAX_JSON_DEPTH deep and without `__proto__` keys; any other
 *   Content-Type is 415 unless a capability scopes its own parser (HL7 text, sync batches). In
 *   particular text/plain, which a page on another site may send without asking, is never JSON.
 * - Cross-site requests: a state-changing request (POST, PUT, PATCH, DELETE) that the session cookie
 *   would authenticate must come from this node's own pages. Browsers say where a request comes
 *   from in `Sec-Fetch-Site` (same-origin, or none when typed by the user) and `Origin`; anything
 *   else is 403. Requests with `Authorization: Bearer` are not affected (a page on another site
 *   cannot add that header without a CORS preflight, which this node never grants).
 * - Security headers (helmet): a strict Content-Security-Policy, no framing, no MIME sniffing, no
 *   Referer; Strict-Transport-Security only on requests that arrived over https.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import sjson from 'secure-json-parse';
import { SteadfastError } from '@steadfast/domain';
import { SESSION_COOKIE } from '../auth/index.ts';

export const MAX_JSON_DEPTH = 64;
export const JSON_CONTENT_TYPES = ['application/json', 'application/fhir+json', 'application/json+fhir'];
/** One year; no includeSubDomains, since other hosts under a practice's domain are not ours to decide. */
export const HSTS_HEADER = 'max-age=31536000';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Throws when the JSON text opens more than `max` arrays/objects inside each other (brackets in strings do not count). */
export function checkJsonDepth(text: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string: find its closing quote that is not escaped.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) {
        throw new SteadfastError('invalid', `The JSON body is nested deeper than ${max} levels`, {
          hint: `Send a body with at most ${max} levels of nested objects and arrays`,
        });
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
}

/** Parse a JSON request body: depth-checked, `__proto__` refused, `constructor.prototype` dropped. */
export function parseJsonBody(text: string): unknown {
  if (text === '') throw new SteadfastError('invalid', 'The body is empty but its Content-Type says JSON', { hint: 'Send one JSON object, or no Content-Type' });
  checkJsonDepth(text);
  return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'ignore' });
}

/** Replace fastify's default parsers (JSON and text/plain) with the depth-checked JSON parser. */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_CONTENT_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Why a state-changing request is refused as cross-site, or undefined when it may go on. */
export function crossSiteReason(request: FastifyRequest): string | undefined {
  if (!STATE_CHANGING.has(request.method)) return undefined;
  if (request.headers.authorization) return undefined;
  const site = headerOf(request, 'sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') return `the browser says it came from ${site === 'cross-site' ? 'another site' : 'another site of the same domain'}`;
  if (!request.cookies?.[SESSION_COOKIE]) return undefined;
  if (site === 'same-origin' || site === 'none') return undefined;
  const origin = headerOf(request, 'origin');
  if (origin === undefined) return 'it carries the session cookie but no Origin or Sec-Fetch-Site header';
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host && host === request.headers.host) return undefined;
  return `its Origin ${origin} is another site than this node (${request.headers.host ?? 'no Host'})`;
}

/** The onRequest hook that refuses cross-site state changes with 403 (before the user is looked up). */
export function installCrossSiteCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const reason = crossSiteReason(request);
    if (reason) {
      throw new SteadfastError('forbidden', `Refused a ${request.method} from another site: ${reason}`, {
        hint: "Use the Steadfast app served by this node (not a link or form on another site); programs send 'Authorization: Bearer <token>' instead of the cookie",
      });
    }
  });
}

/** helmet with a Content-Security-Policy the staff app passes, and HSTS on https requests only. */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        // Vite inlines small images (NHS.UK icons) as data: URLs.
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Sent per request below: over plain http on a practice LAN it would be ignored at best, and a
    // node reached by https once would be unreachable by http for a year at worst.
    strictTransportSecurity: false,
  });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.protocol === 'https') void reply.header('strict-transport-security', HSTS_HEADER);
  });
  // Chrome's PDF viewer runs inside the PDF's own document, which a CSP for the app (object-src
  // 'none', no inline styles) would break: the printed request form opens as a PDF in a new tab.
  app.addHook('onSend', async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (/^application\/pdf\b/i.test(String(reply.getHeader('content-type') ?? ''))) reply.removeHeader('content-security-policy');
    return payload;
  });
}
