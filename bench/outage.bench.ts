/**
 * Reconciling a regional outage at a PostgreSQL hub, at the scale the sync issue names: practices with
 * their registered patients already replicated, then days of realistic practice activity written
 * locally while the hub is gone (slots, bookings and their outcomes, consultations with observations,
 * prescriptions and problems, pathology reports with their observations and review tasks, letters,
 * patient messages, demographic changes), then every practice reconnecting at once.
 *
 * The hub runs as its own `steadfast serve --role hub` process on PostgreSQL; the practice nodes'
 * stores (SQLite) and sync clients run in this process. When the outage begins, the hub's database is
 * cloned, so the reconnection is measured twice from the same state:
 *   1. hub apply rate: each node's backlog encoded and signed beforehand, as each node would on its own
 *      machine, then every practice's batches pushed at once: entries per second at the hub, against a
 *      raw COPY of the very rows the hub stored for them (change_log, resources, search_index) into
 *      empty tables of the same schema, in the same run;
 *   2. reconnection to converged, end to end, on the clone: the real clients push everything, then
 *      every node pulls until nothing waits (80 nodes' work shares this machine with the hub here).
 * Both verify that every entry written at a node is at the hub exactly once (lost 0, duplicated 0).
 *
 * Sizes: BENCH_OUTAGE_PRACTICES (default 8), BENCH_OUTAGE_PATIENTS (total, default 65000),
 * BENCH_OUTAGE_DAYS (default 6: five weekdays and a Saturday). Full size:
 *   BENCH_OUTAGE_PRACTICES=80 BENCH_OUTAGE_PATIENTS=650000 npm run bench -- outage
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { Random } from '@steadfast/domain/random';
import { openStore, type RecordStore, type WriteRequest } from '@steadfast/store';
import { createDrillDatabase, freePort, ManagedProcess, STEADFAST_BIN } from '../packages/server/src/drill/processes.ts';
import { SyncClient } from '../packages/server/src/sync/client.ts';
import { HttpTransport } from '../packages/server/src/sync/http.ts';
import { BATCH_CONTENT_TYPE, DEFAULT_BATCH_SIZE, encodeBatch, HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, PROTOCOL_VERSION, PUSH_PATH, signRequest } from '../packages/server/src/sync/protocol.ts';
import { syncMigrations } from '../packages/server/src/sync/tables.ts';
import { round, type BenchResult } from './types.ts';

const PG_URL = process.env.STEADFAST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN_TOKEN = 'bench-outage-admin';
const WRITE_BATCH = 500;
const SCT = 'http://snomed.info/sct';

export interface Practice {
  ods: string;
  store: RecordStore;
  client: SyncClient;
  key: string;
  patients: Resource[];
  practitioner: string;
  schedule: string;
}

/** Activity per 1,000 registered patients on a weekday (an English practice of ~8,000 sees ~240 booked appointments a day). */
const PER_THOUSAND = { slots: 36, bookings: 30, consultations: 22, reports: 11, letters: 7, messages: 18, demographics: 2 };
/** Saturday morning clinics: a fifth of a weekday. */
const dayScale = (day: number) => (day % 7 === 5 ? 0.2 : 1);

async function writeAll(store: RecordStore, requests: WriteRequest[]): Promise<number> {
  for (let i = 0; i < requests.length; i += WRITE_BATCH) await store.write(requests.slice(i, i + WRITE_BATCH), { author: 'user:bench' });
  return requests.length;
}

export function registered(ods: string, index: number, count: number, firstNumber: number): Resource[] {
  const rng = Random.for(ods, 'patients');
  const families = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Khan', 'Evans', 'Thomas', 'Roberts', 'Walker', 'Wright'];
  const given = ['Olivia', 'Amelia', 'Isla', 'Ava', 'Noah', 'Oliver', 'George', 'Arthur', 'Muhammad', 'Leo', 'Mia', 'Freya', 'Harry', 'Jack', 'Grace'];
  return Array.from({ length: count }, (_, i) => ({
    resourceType: 'Patient',
    id: `${ods}-p${i}`,
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(firstNumber + i) }],
    name: [{ use: 'official', family: families[rng.int(0, families.length - 1)]!, given: [given[rng.int(0, given.length - 1)]!] }],
    gender: rng.chance(0.5) ? 'female' : 'male',
    birthDate: `${rng.int(1930, 2025)}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`,
    address: [{ use: 'home', line: [`${rng.int(1, 200)} Station Road`], city: 'Leeds', postalCode: `LS${index % 28 + 1} ${rng.int(1, 9)}AB` }],
    telecom: [{ system: 'phone', value: `07700 900${String(rng.int(0, 999)).padStart(3, '0')}`, use: 'mobile' }],
  }) as Resource);
}

/** One day of a practice's work while the hub is gone: the writes its node makes, in order. */
export function dayOfWork(p: Practice, day: number, rng: Random): WriteRequest[] {
  const out: WriteRequest[] = [];
  const put = (resource: Resource) => out.push({ kind: 'update', resource });
  const n = (perThousand: number) => Math.round(((perThousand * p.patients.length) / 1000) * dayScale(day));
  const date = new Date(Date.UTC(2026, 10, 23 + day));
  const at = (minutes: number) => new Date(date.getTime() + (8 * 60 + minutes) * 60_000).toISOString();
  const anyPatient = () => p.patients[rng.int(0, p.patients.length - 1)]!.id!;
  const id = (kind: string, i: number) => `${p.ods}-d${day}-${kind}${i}`;
  const subject = (pid: string) => ({ reference: `Patient/${pid}` });

  // The day's sessions, then bookings into them and how each appointment ended.
  const slots = n(PER_THOUSAND.slots);
  for (let i = 0; i < slots; i++) put({ resourceType: 'Slot', id: id('slot', i), schedule: { reference: `Schedule/${p.schedule}` }, status: 'free', start: at(i * 10), end: at(i * 10 + 10) } as Resource);
  const bookings = Math.min(slots, n(PER_THOUSAND.bookings));
  for (let i = 0; i < bookings; i++) {
    const pid = anyPatient();
    const appointment = {
      resourceType: 'Appointment',
      id: id('appt', i),
      status: 'booked',
      slot: [{ reference: `Slot/${id('slot', i)}` }],
      start: at(i * 10),
      end: at(i * 10 + 10),
      participant: [
        { actor: { ...subject(pid), display: 'Patient' }, status: 'accepted' },
        { actor: { reference: `Practitioner/${p.practitioner}` }, status: 'accepted' },
      ],
    } as Resource;
    put(appointment);
    put({ resourceType: 'Slot', id: id('slot', i), schedule: { reference: `Schedule/${p.schedule}` }, status: 'busy', start: at(i * 10), end: at(i * 10 + 10) } as Resource);
    const outcome = rng.next();
    if (outcome < 0.1) {
      put({ ...appointment, status: 'cancelled' } as Resource);
      put({ resourceType: 'Slot', id: id('slot', i), schedule: { reference: `Schedule/${p.schedule}` }, status: 'free', start: at(i * 10), end: at(i * 10 + 10) } as Resource);
    } else if (outcome < 0.15) put({ ...appointment, status: 'noshow' } as Resource);
    else {
      put({ ...appointment, status: 'arrived' } as Resource);
      put({ ...appointment, status: 'fulfilled' } as Resource);
    }
  }
  // Consultations: the encounter, its observations, sometimes a prescription or a new problem.
  for (let i = 0; i < n(PER_THOUSAND.consultations); i++) {
    const pid = anyPatient();
    const enc = id('enc', i);
    put({ resourceType: 'Encounter', id: enc, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: subject(pid), period: { start: at(i * 3), end: at(i * 3 + 10) }, reasonCode: [{ text: 'Follow-up of blood pressure' }] } as Resource);
    put({ resourceType: 'Observation', id: id('bp', i), status: 'final', code: { coding: [{ system: SCT, code: '271649006', display: 'Systolic blood pressure' }] }, subject: subject(pid), encounter: { reference: `Encounter/${enc}` }, effectiveDateTime: at(i * 3 + 5), valueQuantity: { value: rng.int(105, 175), unit: 'mmHg' } } as Resource);
    if (rng.chance(0.5)) put({ resourceType: 'Observation', id: id('wt', i), status: 'final', code: { coding: [{ system: SCT, code: '27113001', display: 'Body weight' }] }, subject: subject(pid), encounter: { reference: `Encounter/${enc}` }, effectiveDateTime: at(i * 3 + 6), valueQuantity: { value: rng.int(45, 120), unit: 'kg' } } as Resource);
    if (rng.chance(0.4)) put({ resourceType: 'MedicationRequest', id: id('rx', i), status: 'active', intent: 'order', subject: subject(pid), authoredOn: at(i * 3 + 8), medicationCodeableConcept: { text: 'Amlodipine 5mg tablets' }, dosageInstruction: [{ text: 'One daily' }] } as Resource);
    if (rng.chance(0.15)) put({ resourceType: 'Condition', id: id('cond', i), subject: subject(pid), clinicalStatus: { coding: [{ code: 'active' }] }, code: { coding: [{ system: SCT, code: '38341003', display: 'Hypertension' }] }, recordedDate: at(i * 3 + 9) } as Resource);
  }
  // Pathology: a report with its observations and a review task for the requester, then filed.
  for (let i = 0; i < n(PER_THOUSAND.reports); i++) {
    const pid = anyPatient();
    const report = id('dr', i);
    const obs = ['HB', 'WBC', 'PLT', 'NA', 'K'].map((code, k) => ({ resourceType: 'Observation', id: `${report}-${code}`, status: 'final', category: [{ coding: [{ code: 'laboratory' }] }], code: { coding: [{ system: 'https://steadfast.example/lab-code', code, display: code }] }, subject: subject(pid), effectiveDateTime: at(60 + i), valueQuantity: { value: 100 + k + rng.int(0, 40), unit: 'g/L' }, referenceRange: [{ text: '90-200' }] }) as Resource);
    obs.forEach(put);
    put({ resourceType: 'DiagnosticReport', id: report, status: 'final', code: { text: 'Full blood count' }, subject: subject(pid), effectiveDateTime: at(60 + i), result: obs.map((o) => ({ reference: `Observation/${o.id}` })) } as Resource);
    const task = { resourceType: 'Task', id: id('rtask', i), status: 'requested', intent: 'order', code: { text: 'Review pathology result' }, focus: { reference: `DiagnosticReport/${report}` }, for: subject(pid), authoredOn: at(60 + i) } as Resource;
    put(task);
    if (rng.chance(0.8)) put({ ...task, status: 'completed' } as Resource);
  }
  // Letters in, each passed to a clinician and done; messages to patients; changed addresses and numbers.
  for (let i = 0; i < n(PER_THOUSAND.letters); i++) {
    const pid = anyPatient();
    put({ resourceType: 'DocumentReference', id: id('doc', i), status: 'current', type: { text: 'Discharge summary' }, subject: subject(pid), date: at(120 + i), description: 'Discharge summary from Leeds Teaching Hospitals', content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(`Discharge summary ${i}`).toString('base64') } }] } as Resource);
    const task = { resourceType: 'Task', id: id('dtask', i), status: 'requested', intent: 'order', code: { text: 'Action letter' }, focus: { reference: `DocumentReference/${id('doc', i)}` }, for: subject(pid), authoredOn: at(120 + i) } as Resource;
    put(task);
    put({ ...task, status: 'completed' } as Resource);
  }
  for (let i = 0; i < n(PER_THOUSAND.messages); i++) {
    put({ resourceType: 'Communication', id: id('sms', i), status: 'completed', subject: subject(anyPatient()), sent: at(180 + i), medium: [{ text: 'SMS' }], payload: [{ contentString: 'Your appointment is confirmed. Reply CANCEL to cancel.' }] } as Resource);
  }
  for (let i = 0; i < n(PER_THOUSAND.demographics); i++) {
    const patient = p.patients[rng.int(0, p.patients.length - 1)]!;
    put({ ...patient, address: [{ use: 'home', line: [`${i + 1} New Street`], city: 'Leeds', postalCode: 'LS2 7EW' }] } as Resource);
  }
  return out;
}

function tsvField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  return String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/** Run `fn` over items, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/**
 * A PostgreSQL instance of the bench's own, configured as a regional hub's server would be (the
 * machine's shared server keeps PostgreSQL's defaults: 128 MB of shared buffers and a checkpoint every
 * 1 GB of WAL, which a hub holding a region's records outgrows at once). Same binaries, a temporary
 * data directory, a free port on 127.0.0.1; stopped and deleted afterwards. Needs root (to run it as
 * the postgres user) and Debian's PostgreSQL binaries; undefined when either is missing.
 */
async function dedicatedPostgres(dir: string, say: (s: string) => void): Promise<{ url: string; settings: string; stop(): Promise<void> } | undefined> {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
  const bin = versions.length ? `/usr/lib/postgresql/${versions[versions.length - 1]}/bin` : '';
  if (!bin || !existsSync(`${bin}/initdb`) || process.getuid?.() !== 0) return undefined;
  const data = join(dir, 'pgdata');
  mkdirSync(data, { recursive: true });
  // The postgres user must reach the data directory through the bench's temporary directories.
  for (const d of [dirname(dir), dir]) chmodSync(d, 0o755);
  const run = (args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('chown', ['-R', 'postgres:postgres', data]);
  run([`${bin}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const memory = Math.floor(totalmem() / 2 ** 30);
  const settings = [`shared_buffers=${Math.max(1, Math.min(8, Math.floor(memory / 4)))}GB`, 'max_wal_size=16GB', 'checkpoint_timeout=30min', 'wal_buffers=64MB', `effective_cache_size=${Math.max(1, Math.floor(memory / 2))}GB`, 'max_connections=200'];
  run([`${bin}/pg_ctl`, '-D', data, '-l', join(data, 'server.log'), '-w', '-o', `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 ${settings.map((x) => `-c ${x}`).join(' ')}`, 'start']);
  say(`dedicated PostgreSQL on 127.0.0.1:${port} (${settings.join(', ')})`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    settings: settings.join(', '),
    stop: async () => void run([`${bin}/pg_ctl`, '-D', data, '-m', 'fast', '-w', 'stop']),
  };
}

function hubProcess(name: string, databaseUrl: string, dir: string): ManagedProcess {
  return new ManagedProcess(name, [STEADFAST_BIN, 'serve', '--role', 'hub', '--database-url', databaseUrl, '--data', join(dir, name), '--port', '0'], {
    env: { STEADFAST_HUB_ADMIN_TOKEN: ADMIN_TOKEN },
    logFile: join(dir, `${name}.log`),
    readyPath: '/api/hub/practices',
    readyHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
}

/** Every entry each node wrote is at the hub exactly once; throws otherwise. */
async function verifyAtHub(databaseUrl: string, practices: Practice[]): Promise<{ written: number; atHub: number }> {
  let written = 0;
  for (const p of practices) {
    const local = await p.store.db.selectFrom('change_log').select((eb) => eb.fn.countAll<number>().as('n')).where('practice', '=', p.ods).executeTakeFirst();
    written += Number(local?.n ?? 0);
  }
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ n: string; distinct_entries: string }>("SELECT count(*) AS n, count(DISTINCT (practice, entry_id)) AS distinct_entries FROM change_log WHERE practice <> 'HUB'");
    const atHub = Number(r.rows[0]!.n);
    const duplicated = atHub - Number(r.rows[0]!.distinct_entries);
    const lost = written - Number(r.rows[0]!.distinct_entries);
    if (lost !== 0 || duplicated !== 0) throw new Error(`outage bench: written ${written}, at hub ${atHub}, lost ${lost}, duplicated ${duplicated}`);
    return { written, atHub };
  } finally {
    await c.end();
  }
}

export async function run(): Promise<BenchResult[]> {
  if (!(await pgReachable())) return [{ name: 'outage reconciliation at a PostgreSQL hub', value: 0, unit: 'entries/s', note: `skipped: PostgreSQL not reachable at ${PG_URL}` }];
  const practiceCount = Number(process.env.BENCH_OUTAGE_PRACTICES ?? 8);
  const patientTotal = Number(process.env.BENCH_OUTAGE_PATIENTS ?? 65_000);
  const days = Number(process.env.BENCH_OUTAGE_DAYS ?? 6);
  const say = (s: string) => console.log(`outage bench: ${s}`);
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-outage-bench-'));
  // BENCH_OUTAGE_PG=shared runs on the machine's PostgreSQL as it is configured.
  const server = process.env.BENCH_OUTAGE_PG === 'shared' ? undefined : await dedicatedPostgres(join(dir, 'pg'), say).catch((err) => (say(`no dedicated PostgreSQL (${(err as Error).message}); using ${PG_URL}`), undefined));
  const serverUrl = server?.url ?? PG_URL;
  const serverNote = server ? `a dedicated PostgreSQL tuned as a hub's would be (${server.settings})` : `the shared PostgreSQL at ${PG_URL} with its own settings`;
  const database = await createDrillDatabase(serverUrl);
  const clone = { name: `${database.name}_b`, url: database.url.replace(database.name, `${database.name}_b`) };
  const admin = new pg.Client({ connectionString: serverUrl });
  let hub = hubProcess('hub', database.url, dir);
  let hubB: ManagedProcess | undefined;
  const practices: Practice[] = [];
  try {
    await admin.connect();
    await hub.start();
    // Practices of different sizes (±30%), adding up to the region's list.
    const weights = Array.from({ length: practiceCount }, (_, i) => 0.7 + 0.6 * Random.for('outage', `size${i}`).next());
    const weightSum = weights.reduce((a, b) => a + b, 0);
    let firstNumber = 1;
    let started = performance.now();
    for (let i = 0; i < practiceCount; i++) {
      const ods = `B8${String(i).padStart(4, '0')}`;
      const store = await openStore({ dataDir: join(dir, ods), nodeId: `bench-node-${ods}`, practice: ods, migrations: syncMigrations });
      const res = await fetch(`${hub.url}/api/hub/nodes`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ practice: ods, nodeId: store.nodeId }) });
      if (res.status !== 201) throw new Error(`hub refused to register ${ods}: ${res.status} ${await res.text()}`);
      const { key } = (await res.json()) as { key: string };
      const client = new SyncClient({ store, peer: 'hub', transport: new HttpTransport(hub.url, 600_000), key });
      const count = Math.round((patientTotal * weights[i]!) / weightSum);
      const patients = registered(ods, i, count, firstNumber);
      firstNumber += count;
      const practitioner = `${ods}-gp1`;
      const schedule = `${ods}-sched1`;
      await writeAll(store, [
        ...patients.map((resource) => ({ kind: 'update' as const, resource })),
        { kind: 'update', resource: { resourceType: 'Practitioner', id: practitioner, name: [{ prefix: ['Dr'], family: 'Jones', given: ['Ann'] }] } as Resource },
        { kind: 'update', resource: { resourceType: 'Schedule', id: schedule, active: true, actor: [{ reference: `Practitioner/${practitioner}` }] } as Resource },
      ]);
      practices.push({ ods, store, client, key, patients, practitioner, schedule });
    }
    say(`${practiceCount} practices, ${firstNumber - 1} patients written locally in ${round((performance.now() - started) / 1000, 1)} s`);
    started = performance.now();
    await eachLimited(practices, 8, async (p) => void (await p.client.exchange()));
    const initialSeconds = (performance.now() - started) / 1000;
    say(`registered lists replicated to the hub in ${round(initialSeconds, 1)} s`);

    // The outage begins: the hub's state is cloned, so both measurements start from it.
    await hub.stop();
    await admin.query(`CREATE DATABASE ${clone.name} TEMPLATE ${database.name}`);
    hub = hubProcess('hub', database.url, dir);
    hubB = hubProcess('hub-b', clone.url, dir);
    await hub.start();
    await hubB.start();

    // Every practice works for `days` days with no hub.
    let outageEntries = 0;
    started = performance.now();
    for (const p of practices) {
      const rng = Random.for('outage', p.ods);
      for (let day = 0; day < days; day++) outageEntries += await writeAll(p.store, dayOfWork(p, day, rng));
    }
    say(`${outageEntries} entries written during a ${days}-day outage in ${round((performance.now() - started) / 1000, 1)} s`);

    // 1. Hub apply rate: each node's backlog encoded and signed as the node would send it, then pushed at once.
    const prepared: Array<Array<{ body: Buffer; digest: string; nodeId: string; key: string }>> = [];
    for (const p of practices) {
      const { push } = await p.client.cursors();
      const logged = await p.store.changesSince(push, 100_000_000);
      const batches = [];
      for (let i = 0; i < logged.length; i += DEFAULT_BATCH_SIZE) {
        const part = logged.slice(i, i + DEFAULT_BATCH_SIZE);
        const enc = encodeBatch({ protocol: PROTOCOL_VERSION, nodeId: p.store.nodeId, practice: p.ods, fromCursor: i === 0 ? push : logged[i - 1]!.seq, toCursor: part[part.length - 1]!.seq, entries: part.map(({ seq: _s, ...e }) => e) });
        batches.push({ ...enc, nodeId: p.store.nodeId, key: p.key });
      }
      prepared.push(batches);
    }
    const hubDb = new pg.Client({ connectionString: database.url });
    await hubDb.connect();
    const seqBefore = Number((await hubDb.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM change_log')).rows[0]!.seq ?? 0);
    const transport = new HttpTransport(hub.url, 600_000);
    started = performance.now();
    await Promise.all(
      prepared.map(async (batches) => {
        for (const b of batches) {
          const res = await transport.send({
            path: PUSH_PATH,
            headers: { 'content-type': BATCH_CONTENT_TYPE, [HEADER_NODE]: b.nodeId, [HEADER_DIGEST]: b.digest, [HEADER_SIGNATURE]: signRequest(b.key, 'POST', PUSH_PATH, b.nodeId, b.digest) },
            body: b.body,
          });
          if (res.status !== 200) throw new Error(`hub refused a batch: ${res.status} ${res.body.toString()}`);
        }
      }),
    );
    const applySeconds = (performance.now() - started) / 1000;
    const applied = await verifyAtHub(database.url, practices);
    say(`hub applied ${outageEntries} entries in ${round(applySeconds, 1)} s; written ${applied.written}, at hub ${applied.atHub}, lost 0, duplicated 0`);

    // Baseline: COPY the rows the hub stored for the outage into empty tables of the same schema.
    const rawSchema = 'raw_copy';
    const rawStore = await openStore({ url: database.url, pgSchema: rawSchema, nodeId: 'raw', practice: 'RAW' });
    await rawStore.close();
    const selections: Array<{ table: string; where: string }> = [
      { table: 'change_log', where: `seq > ${seqBefore}` },
      { table: 'resources', where: `seq > ${seqBefore}` },
      { table: 'search_index', where: `rkey IN (SELECT rkey FROM public.resources WHERE seq > ${seqBefore})` },
    ];
    const data: Array<{ table: string; columns: string[]; tsv: string[] }> = [];
    for (const s of selections) {
      const cols = await hubDb.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_default IS NULL ORDER BY ordinal_position`, [s.table]);
      const columns = cols.rows.map((r: { column_name: string }) => r.column_name);
      const rows = await hubDb.query({ text: `SELECT ${columns.join(', ')} FROM public.${s.table} WHERE ${s.where}`, rowMode: 'array' });
      data.push({ table: s.table, columns, tsv: rows.rows.map((r: unknown[]) => `${r.map(tsvField).join('\t')}\n`) });
    }
    await hubDb.end();
    const raw = new pg.Client({ connectionString: database.url, options: `-c search_path=${rawSchema}` });
    await raw.connect();
    started = performance.now();
    await raw.query('BEGIN');
    for (const d of data) await pipeline(Readable.from(d.tsv), raw.query(copyFrom(`COPY ${d.table} (${d.columns.join(', ')}) FROM STDIN`)));
    await raw.query('COMMIT');
    const copySeconds = (performance.now() - started) / 1000;
    await raw.end();
    const rowsCopied = data.map((d) => `${d.tsv.length} ${d.table}`).join(', ');
    data.length = 0;
    await hub.stop();

    // 2. Reconnection to converged, end to end, on the clone: the real clients, push then pull.
    for (const p of practices) p.client = new SyncClient({ store: p.store, peer: 'hub', transport: new HttpTransport(hubB.url, 600_000), key: p.key });
    started = performance.now();
    await Promise.all(
      practices.map(async (p) => {
        while ((await p.client.pushOnce()) > 0);
      }),
    );
    const pushSeconds = (performance.now() - started) / 1000;
    await Promise.all(practices.map((p) => p.client.exchange()));
    const convergedSeconds = (performance.now() - started) / 1000;
    for (const p of practices) {
      const status = await p.client.status();
      if (status.waitingToPush !== 0 || status.waitingToPull !== 0) throw new Error(`${p.ods} has not converged: ${status.waitingToPush} to send, ${status.waitingToPull} to receive`);
    }
    const converged = await verifyAtHub(clone.url, practices);
    say(`end to end: pushed in ${round(pushSeconds, 1)} s, converged in ${round(convergedSeconds, 1)} s; written ${converged.written}, at hub ${converged.atHub}, lost 0, duplicated 0`);

    const hubRate = outageEntries / applySeconds;
    const rawRate = outageEntries / copySeconds;
    const scale = `${practiceCount} practices, ${firstNumber - 1} patients, ${days}-day outage, ${outageEntries} entries`;
    return [
      {
        name: `outage backlog applied at the hub, every practice pushing at once (${scale})`,
        value: round(hubRate, 0),
        unit: 'entries/s',
        baseline: { name: `raw COPY of the same rows (${rowsCopied})`, value: round(rawRate, 0) },
        ratio: round(hubRate / rawRate, 3),
        target: `≥ 0.3 of raw: ${hubRate / rawRate >= 0.3 ? 'met' : 'NOT met'}`,
        note: `signed gzip batches of ${DEFAULT_BATCH_SIZE} over HTTP to the hub process, prepared beforehand as each node would on its own machine; verified lost 0, duplicated 0; ${serverNote}`,
      },
      {
        name: `reconnection to converged, end to end (${scale})`,
        value: round(convergedSeconds, 1),
        unit: 's',
        baseline: { name: 'raw COPY of the same rows', value: round(copySeconds, 1) },
        ratio: round(convergedSeconds / copySeconds, 2),
        note: `the real clients of all ${practiceCount} nodes in one process beside the hub: push ${round(pushSeconds, 1)} s, then pull until nothing waits; verified written ${converged.written}, at hub ${converged.atHub}, lost 0, duplicated 0; lists replicated beforehand in ${round(initialSeconds, 1)} s`,
      },
    ];
  } finally {
    for (const p of practices) await p.store.close();
    await hub.stop();
    await hubB?.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${clone.name} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await database.drop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await run(), null, 2));
}
