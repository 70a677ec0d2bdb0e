/**
 * The outbox survives a kill -9 at every step of a send: a child node process drains real messages
 * to the local GOV.UK Notify server and is killed with SIGKILL (a) after claiming a message, before
 * any request, (b) while the request is in flight, (c) after Notify accepted it but before the
 * outbox recorded that, (d) after recording, before the record's Communication was updated. A fresh
 * process then recovers: every message reaches Notify exactly once (counted by reference), none is
 * lost, and each ends sent in the outbox and on its way in the record.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeNotify, type FakeNotify } from '../messaging/fake-notify/server.ts';

const CHILD = fileURLToPath(new URL('../testing/outbox-crash-child.ts', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  result?: { ids?: string[]; rows?: Array<{ id: string; state: string; attempts: number; provider_ref: string | null }>; deliveries?: Array<{ outbox_id: string; status: string; notify_id: string | null }> };
  at?: { step: string; id: string };
  output: string;
}

/** Run the child; with `killOn`, SIGKILL it the moment `killOn(output)` says so. */
function run(args: string[], killOn?: (output: string) => boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child timed out:\n${output.slice(-2000)}`));
    }, 120_000);
    const check = () => {
      if (!killed && killOn?.(output)) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      check();
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const poll = killOn ? setInterval(check, 2) : undefined;
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const res = /RESULT (.+)\n/.exec(output)?.[1];
      const at = /AT (\S+) (\S+)\n/.exec(output);
      resolve({ code, signal, output, ...(res ? { result: JSON.parse(res) } : {}), ...(at ? { at: { step: at[1]!, id: at[2]! } } : {}) });
    });
  });
}

describe('outbox: kill -9 at every step of a send', () => {
  let fake: FakeNotify;
  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 5 });
  });
  after(async () => fake?.stop());

  // Named in full (the hazard log cites them).
  const steps = [
    ['claimed', 'killed at "claimed": each message reaches Notify once, none lost'],
    ['in-flight', 'killed while the request to Notify is in flight: each message reaches Notify once, none lost'],
    ['sent', 'killed at "sent": each message reaches Notify once, none lost'],
    ['recorded', 'killed at "recorded": each message reaches Notify once, none lost'],
  ] as const;
  for (const [step, name] of steps) {
    it(name, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-crash-'));
      try {
        const queued = await run([dataDir, fake.url, 'queue', '3']);
        assert.equal(queued.code, 0, queued.output);
        const ids = queued.result!.ids!;
        const seenBefore = fake.requests.length;
        const killOn = step === 'in-flight' ? () => fake.requests.slice(seenBefore).some((r) => r.method === 'POST') : (out: string) => /AT \S+ \S+\n/.test(out);
        const crashed = await run([dataDir, fake.url, 'send', step], killOn);
        assert.equal(crashed.signal, 'SIGKILL', `the child was killed, not finished:\n${crashed.output.slice(-1000)}`);
        if (step !== 'in-flight') assert.equal(crashed.at?.step, step);

        const recovered = await run([dataDir, fake.url, 'recover']);
        assert.equal(recovered.code, 0, recovered.output);
        for (const id of ids) {
          assert.equal(fake.byReference(id).length, 1, `message ${id} reached Notify exactly once; recovery said ${JSON.stringify(recovered.result)}\n${recovered.output.slice(-1500)}`);
          const row = recovered.result!.rows!.find((r) => r.id === id)!;
          assert.equal(row.state, 'sent', `message ${id} is recorded sent`);
          assert.equal(row.provider_ref, fake.byReference(id)[0]!.id, 'the outbox knows Notify’s id for it');
          const delivery = recovered.result!.deliveries!.find((d) => d.outbox_id === id)!;
          assert.ok(['sending', 'sent', 'delivered'].includes(delivery.status), `the record follows: ${delivery.status}`);
          assert.equal(delivery.notify_id, row.provider_ref);
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});
