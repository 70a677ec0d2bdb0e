/**
 * A broadcast survives a kill -9 part-way through queuing: a child node process starts a broadcast
 * to 600 booked patients (three batches) and is killed with SIGKILL after its second batch commits.
 * A fresh process resumes it (what the node does when it starts), writes the Communications and
 * drains the outbox to the local GOV.UK Notify server: every patient is texted exactly once (counted
 * by mobile number at Notify) and has exactly one Communication in the record.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeNotify, type FakeNotify } from './fake-notify/server.ts';

const CHILD = fileURLToPath(new URL('../testing/broadcast-crash-child.ts', import.meta.url));
const PATIENTS = 600;

function run(args: string[], killOn?: (output: string) => boolean): Promise<{ output: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child timed out:\n${output.slice(-2000)}`));
    }, 180_000);
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      if (killOn?.(output)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ output, signal });
    });
  });
}

describe('broadcast: kill -9 part-way through queuing', () => {
  let fake: FakeNotify;
  let dir: string;
  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 60_000, perMinute: 10_000_000, perDay: 10_000_000 });
    dir = mkdtempSync(join(tmpdir(), 'steadfast-broadcast-crash-'));
  });
  after(async () => {
    await fake?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every patient booked is texted exactly once and recorded once after a crash mid-broadcast', async () => {
    const day = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    const first = await run([dir, fake.url, 'start', String(PATIENTS), day], (out) => /BATCH 2\n/.test(out));
    assert.equal(first.signal, 'SIGKILL', `the child was to be killed after its second batch:\n${first.output.slice(-1500)}`);
    assert.doesNotMatch(first.output, /FINISHED/);

    const second = await run([dir, fake.url, 'recover']);
    const json = /RESULT (.+)\n/.exec(second.output)?.[1];
    assert.ok(json, second.output.slice(-2000));
    const result = JSON.parse(json) as { broadcasts: Array<{ state: string; queued: number; patients: number }>; deliveries: Array<{ patient_id: string; communication_id: string; status: string; pending_record: string | null }>; communications: Array<{ id: string; patient: string; status: string }> };
    assert.equal(result.broadcasts[0]!.state, 'queued');
    assert.equal(result.broadcasts[0]!.patients, PATIENTS);
    assert.equal(result.broadcasts[0]!.queued, PATIENTS);

    const texts = new Map<string, number>();
    for (const s of fake.notifications.values()) texts.set(s.to, (texts.get(s.to) ?? 0) + 1);
    assert.equal(texts.size, PATIENTS, 'every patient was texted');
    assert.deepEqual([...texts.values()].filter((n) => n !== 1), [], 'nobody was texted twice');

    assert.equal(result.deliveries.length, PATIENTS);
    assert.deepEqual(result.deliveries.filter((d) => d.pending_record !== null), [], 'every message is in the record');
    const perPatient = new Map<string, number>();
    for (const c of result.communications) perPatient.set(c.patient, (perPatient.get(c.patient) ?? 0) + 1);
    assert.equal(perPatient.size, PATIENTS);
    assert.deepEqual([...perPatient.values()].filter((n) => n !== 1), [], 'one Communication per patient');
    const ids = new Set(result.communications.map((c) => c.id));
    assert.ok(result.deliveries.every((d) => ids.has(d.communication_id)), "each delivery's Communication is the one in the record");
  });
});
