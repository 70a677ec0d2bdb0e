import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import type { Role } from '@steadfast/domain';

/** Open an SSE stream as a role and return a function that awaits the next event of a given name. */
async function openStream(node: TestNode, role: Role) {
  const controller = new AbortController();
  const res = await node.fetchAs(role, '/api/alarm/stream', { signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  async function next(name: string): Promise<any> {
    for (;;) {
      const frames = buffer.split('\n\n');
      buffer = frames.pop() ?? '';
      const found = frames.map((f) => ({ event: /^event: (.*)$/m.exec(f)?.[1], data: /^data: (.*)$/m.exec(f)?.[1] })).findIndex((f) => f.event === name);
      if (found >= 0) {
        const frame = frames[found]!;
        buffer = frames.slice(found + 1).join('\n\n') + (frames.length > found + 1 ? '\n\n' : '') + buffer;
        return JSON.parse(/^data: (.*)$/m.exec(frame)![1]!);
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before a "${name}" event`);
      buffer = frames.join('\n\n') + (frames.length ? '\n\n' : '') + buffer + value;
    }
  }
  return { next, close: () => controller.abort() };
}

test('a panic alarm reaches every signed-in screen naming the person and the mapped room', async () => {
  const node = await startTestNode();
  try {
    // The admin maps the receptionist's workstation (the harness signs in from "test-receptionist").
    const put = await node.fetchAs('practice-admin', '/api/alarm/rooms/test-receptionist', { method: 'PUT', json: { room: 'Reception desk' } });
    assert.equal(put.status, 200);
    const clinician = await openStream(node, 'clinician');
    const admin = await openStream(node, 'practice-admin');
    await clinician.next('ready');
    await admin.next('ready');

    const raise = await node.fetchAs('receptionist', '/api/alarm/raise', { method: 'POST', json: {} });
    assert.equal(raise.status, 200);
    const raised = (await raise.json()) as { delivered: number; room: string; roomKnown: boolean };
    assert.equal(raised.delivered, 2);
    assert.equal(raised.room, 'Reception desk');

    for (const screen of [clinician, admin]) {
      const alarm = await screen.next('alarm');
      assert.equal(alarm.raisedBy.name, 'Test receptionist');
      assert.equal(alarm.room, 'Reception desk');
      assert.equal(alarm.roomKnown, true);
    }

    clinician.close();
    admin.close();
  } finally {
    await node.close();
  }
});

test('an alarm from an unmapped workstation still goes out and says the room is not known', async () => {
  const node = await startTestNode();
  try {
    const screen = await openStream(node, 'practice-admin');
    await screen.next('ready');
    const res = await node.fetchAs('clinician', '/api/alarm/raise', { method: 'POST', json: {} });
    const body = (await res.json()) as { id: string; roomKnown: boolean };
    assert.equal(body.roomKnown, false);
    const alarm = await screen.next('alarm');
    assert.equal(alarm.roomKnown, false);
    assert.equal(alarm.workstation, 'test-clinician');
    assert.equal(alarm.raisedBy.name, 'Test clinician');

    const ack = await node.fetchAs('receptionist', `/api/alarm/${body.id}/ack`, { method: 'POST', json: {} });
    assert.equal(ack.status, 200);
    const updated = await screen.next('alarm');
    assert.deepEqual(updated.acks.map((a: { name: string }) => a.name), ['Test receptionist']);

    // A screen that connects after the alarm (a reload) is told about it at once.
    const late = await openStream(node, 'receptionist');
    const replayed = await late.next('alarm');
    assert.equal(replayed.id, body.id);

    const resolved = await node.fetchAs('clinician', `/api/alarm/${body.id}/resolve`, { method: 'POST', json: {} });
    assert.equal(resolved.status, 200);
    assert.equal((await screen.next('alarm')).resolved.name, 'Test clinician');
    screen.close();
    late.close();
  } finally {
    await node.close();
  }
});

test('only practice-admins map rooms; signed-out callers cannot listen or raise', async () => {
  const node = await startTestNode();
  try {
    assert.equal((await node.fetchAs('clinician', '/api/alarm/rooms/ws1', { method: 'PUT', json: { room: 'Room 1' } })).status, 403);
    assert.equal((await node.fetchAs('practice-admin', '/api/alarm/rooms/ws1', { method: 'PUT', json: {} })).status, 400);
    assert.equal((await node.fetch('/api/alarm/stream')).status, 401);
    assert.equal((await node.fetch('/api/alarm/raise', { method: 'POST', json: {} })).status, 401);
    assert.equal((await node.fetchAs('practice-admin', '/api/alarm/rooms/ws1', { method: 'PUT', json: { room: 'Room 1' } })).status, 200);
    const rooms = (await (await node.fetchAs('receptionist', '/api/alarm/rooms')).json()) as { rooms: Array<{ workstation: string; room: string }> };
    assert.deepEqual(rooms.rooms.map((r) => [r.workstation, r.room]), [['ws1', 'Room 1']]);
  } finally {
    await node.close();
  }
});
