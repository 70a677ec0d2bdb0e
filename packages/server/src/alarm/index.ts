/**
 * Panic alarm, served by the practice node itself so it works with no wider network:
 *
 *   GET  /api/alarm/stream              server-sent events for every signed-in screen
 *   POST /api/alarm/raise               raise an alarm from the caller's workstation
 *   POST /api/alarm/:id/ack | /resolve  "I am responding" / stand down
 *   GET  /api/alarm/rooms               workstation → room map
 *   PUT  /api/alarm/rooms/:workstation  {room}  (practice-admin)
 *   DELETE /api/alarm/rooms/:workstation        (practice-admin)
 *
 * The room comes from the node's own table: in one real outage the lookup lived in a data centre and
 * the practice could not tell where an alarm came from. An unmapped workstation still raises the
 * alarm, naming the person and saying plainly that the room is not known.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';
import { requireRole } from '../auth/index.ts';
import type { AlarmTables } from './tables.ts';
import type { Alarm } from '@steadfast/domain/api';

import { alarmMigrations } from './tables.ts';
import type { Capability } from '../capability.ts';

export { alarmMigrations };

export type { Alarm };

/** Alarms raised in the last half hour are replayed to screens that connect late (e.g. after a reload). */
const REPLAY_MS = 30 * 60_000;
const HEARTBEAT_MS = 15_000;

class AlarmHub {
  private readonly clients = new Set<ServerResponse>();
  readonly recent = new Map<string, Alarm>();

  get listeners(): number {
    return this.clients.size;
  }

  add(res: ServerResponse): void {
    this.clients.add(res);
  }

  remove(res: ServerResponse): void {
    this.clients.delete(res);
  }

  /** Returns how many screens the event was written to. */
  broadcast(event: string, data: unknown): number {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    let n = 0;
    for (const res of this.clients) {
      if (res.writableEnded || res.destroyed) {
        this.clients.delete(res);
        continue;
      }
      res.write(frame);
      n++;
    }
    return n;
  }

  active(now: number): Alarm[] {
    for (const [id, a] of this.recent) if (now - Date.parse(a.raisedAt) > REPLAY_MS) this.recent.delete(id);
    return [...this.recent.values()];
  }

  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

function cleanWorkstation(raw: string): string {
  const ws = decodeURIComponent(raw).trim();
  if (!ws || ws.length > 128) throw new SteadfastError('invalid', 'The workstation name must be 1 to 128 characters', { field: 'workstation' });
  return ws;
}

async function registerAlarm(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const db = deps.store.db as unknown as Kysely<AlarmTables>;
  const practice = deps.store.practice;
  const hub = new AlarmHub();
  app.addHook('onClose', async () => hub.closeAll());

  async function roomOf(workstation: string): Promise<string | undefined> {
    if (!workstation) return undefined;
    const row = await db.selectFrom('alarm_rooms').select('room').where('practice', '=', practice).where('workstation', '=', workstation).executeTakeFirst();
    return row?.room;
  }

  app.get('/api/alarm/stream', async (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    hub.add(res);
    res.write(`event: ready\ndata: ${JSON.stringify({ listeners: hub.listeners })}\n\n`);
    for (const alarm of hub.active(Date.now())) res.write(`event: alarm\ndata: ${JSON.stringify(alarm)}\n\n`);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    request.raw.on('close', () => {
      clearInterval(heartbeat);
      hub.remove(res);
    });
  });

  app.post('/api/alarm/raise', async (request) => {
    const user = request.user;
    const workstation = user.workstation ?? '';
    const room = await roomOf(workstation);
    const alarm: Alarm = {
      id: randomUUID(),
      raisedAt: new Date().toISOString(),
      raisedBy: { id: user.id, name: user.name, role: user.role },
      workstation,
      room: room ?? 'room not known',
      roomKnown: room !== undefined,
      acks: [],
    };
    hub.recent.set(alarm.id, alarm);
    const delivered = hub.broadcast('alarm', alarm);
    request.log.warn({ alarm: alarm.id, room: alarm.room, user: user.id }, 'panic alarm raised');
    await db
      .insertInto('alarm_events')
      .values({
        practice,
        id: alarm.id,
        raised_at: alarm.raisedAt,
        user_id: user.id,
        user_name: user.name,
        workstation,
        room: alarm.room,
        room_known: alarm.roomKnown ? 1 : 0,
        delivered,
        resolved_at: null,
        resolved_by: null,
      })
      .execute();
    return { id: alarm.id, delivered, room: alarm.room, roomKnown: alarm.roomKnown };
  });

  const find = (id: string) => {
    const alarm = hub.recent.get(id);
    if (!alarm) throw new SteadfastError('not-found', `Alarm ${id} is not active on this node`, { field: 'id', hint: 'It may have been resolved or be older than 30 minutes' });
    return alarm;
  };

  app.post<{ Params: { id: string } }>('/api/alarm/:id/ack', async (request) => {
    const alarm = find(request.params.id);
    if (!alarm.acks.some((a) => a.id === request.user.id)) alarm.acks.push({ id: request.user.id, name: request.user.name, at: new Date().toISOString() });
    hub.broadcast('alarm', alarm);
    return alarm;
  });

  app.post<{ Params: { id: string } }>('/api/alarm/:id/resolve', async (request) => {
    const alarm = find(request.params.id);
    alarm.resolved = { name: request.user.name, at: new Date().toISOString() };
    hub.broadcast('alarm', alarm);
    hub.recent.delete(alarm.id);
    await db
      .updateTable('alarm_events')
      .set({ resolved_at: alarm.resolved.at, resolved_by: request.user.name })
      .where('practice', '=', practice)
      .where('id', '=', alarm.id)
      .execute();
    return alarm;
  });

  app.get('/api/alarm/rooms', async () => {
    const rows = await db.selectFrom('alarm_rooms').select(['workstation', 'room', 'updated_at', 'updated_by']).where('practice', '=', practice).orderBy('workstation').execute();
    return { rooms: rows.map((r) => ({ workstation: r.workstation, room: r.room, updatedAt: r.updated_at, updatedBy: r.updated_by })) };
  });

  app.put<{ Params: { workstation: string }; Body: { room?: unknown } }>('/api/alarm/rooms/:workstation', { preHandler: requireRole('practice-admin') }, async (request) => {
    const workstation = cleanWorkstation(request.params.workstation);
    const room = typeof request.body?.room === 'string' ? request.body.room.trim() : '';
    if (!room || room.length > 100) throw new SteadfastError('required', 'room is required (1 to 100 characters)', { field: 'room', hint: 'Send {"room": "Consulting room 3"}' });
    const row = { practice, workstation, room, updated_at: new Date().toISOString(), updated_by: request.user.name };
    await db
      .insertInto('alarm_rooms')
      .values(row)
      .onConflict((oc) => oc.columns(['practice', 'workstation']).doUpdateSet({ room, updated_at: row.updated_at, updated_by: row.updated_by }))
      .execute();
    return { workstation, room };
  });

  app.delete<{ Params: { workstation: string } }>('/api/alarm/rooms/:workstation', { preHandler: requireRole('practice-admin') }, async (request) => {
    const workstation = cleanWorkstation(request.params.workstation);
    await db.deleteFrom('alarm_rooms').where('practice', '=', practice).where('workstation', '=', workstation).execute();
    return { workstation, deleted: true };
  });
}

/** Panic alarms between workstations, over the practice network alone. */
export const alarm: Capability = { name: 'alarm', migrations: alarmMigrations, routes: registerAlarm };
