/**
 * The protocol over real HTTP: a fetch transport for the sending side and fastify routes for the
 * receiving side. Sync routes are public to the staff-login hook; each request is authenticated by the
 * node's HMAC signature instead (receiver.ts).
 */
import type { FastifyInstance } from 'fastify';
import {
  BATCH_CONTENT_TYPE,
  PULL_CONTENT_TYPE,
  PULL_PATH,
  PULL_SHARED_PATH,
  PUSH_PATH,
  type SyncRequest,
  type SyncResponse,
  type SyncTransport,
} from './protocol.ts';
import type { SyncReceiver } from './receiver.ts';

/** Largest batch body accepted (compressed). */
const SYNC_BODY_LIMIT = 50 * 1024 * 1024;

export class HttpTransport implements SyncTransport {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async send(request: SyncRequest): Promise<SyncResponse> {
    const res = await fetch(new URL(request.path, this.baseUrl), {
      method: 'POST',
      headers: Object.fromEntries(Object.entries(request.headers).filter((e): e is [string, string] => e[1] !== undefined)),
      body: new Uint8Array(request.body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = Buffer.from(await res.arrayBuffer());
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return { status: res.status, headers, body };
  }
}

/** POST /api/sync/push, /api/sync/pull and /api/sync/pull-shared, answered by `receiver`. */
export async function registerSyncRoutes(app: FastifyInstance, receiver: () => SyncReceiver): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser([BATCH_CONTENT_TYPE, PULL_CONTENT_TYPE], { parseAs: 'buffer', bodyLimit: SYNC_BODY_LIMIT }, (_req, body, done) => done(null, body));
    for (const path of [PUSH_PATH, PULL_PATH, PULL_SHARED_PATH] as const) {
      scope.post(path, { config: { public: true }, bodyLimit: SYNC_BODY_LIMIT }, async (request, reply) => {
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(request.headers)) headers[k] = Array.isArray(v) ? v[0] : v;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const response = await receiver().handle({ path, headers, body });
        for (const [k, v] of Object.entries(response.headers)) if (v !== undefined) void reply.header(k, v);
        return reply.code(response.status).send(response.body);
      });
    }
  });
}
