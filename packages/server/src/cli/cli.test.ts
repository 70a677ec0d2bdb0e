import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { openNode, type OpenedNode } from '../node/open.ts';
import { exportNdjson } from '../records/export.ts';
import pg from 'pg';
import { importFile } from './import.ts';
import { postgresAvailable, PG_SKIP_REASON, TEST_PG_URL } from '../testing/harness.ts';
import { runCli } from '../testing/cli.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';


const run = (args: string[], stdin?: string) => runCli(args, stdin === undefined ? {} : { stdin });

const patientLine = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    resourceType: 'Patient',
    id: `pat-${i}`,
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(5000 + i) }],
    name: [{ family: `Family${i}`, given: ['Test'] }],
    birthDate: '1960-01-01',
    ...extra,
  });
const conditionLine = (i: number, patient = `pat-${i}`) =>
  JSON.stringify({
    resourceType: 'Condition',
    id: `cond-${i}`,
    subject: { reference: `Patient/${patient}` },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }] },
  });

describe('steadfast import / export', () => {
  let dir: string;
  const nodes: OpenedNode[] = [];
  const open = async (name: string) => {
    const n = await openNode({ dataDir: join(dir, name) });
    nodes.push(n);
    return n;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'steadfast-cli-'));
  });
  after(async () => {
    for (const n of nodes) await n.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  function fileWithBadLines(): string {
    const lines = [patientLine(1), conditionLine(1), patientLine(2), '{"resourceType": "Patient", "name": [', patientLine(3, { identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9991234567' }] }), conditionLine(4, 'nobody'), patientLine(5), conditionLine(5)];
    const file = join(dir, `bad-${Math.random()}.ndjson`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  it('--on-error skip reports each bad line by number and imports every good line', async () => {
    const node = await open('skip');
    const report = await importFile(node, fileWithBadLines(), { onError: 'skip', batchSize: 3, progress: false });
    assert.deepEqual(report.errors.map((e) => e.line), [4, 5, 6]);
    assert.match(report.errors[0]!.message, /not valid JSON/);
    assert.match(report.errors[1]!.message, /Modulus 11|NHS number/);
    assert.match(report.errors[2]!.message, /Patient\/nobody.*does not exist/);
    assert.equal(report.imported, 5);
    assert.equal(report.stopped, false);
    const ids = (await node.store.changesSince(0, 1000)).map((e) => `${e.resourceType}/${e.resourceId}`).sort();
    assert.deepEqual(ids, ['Condition/cond-1', 'Condition/cond-5', 'Patient/pat-1', 'Patient/pat-2', 'Patient/pat-5']);
  });

  it('--on-error stop imports the lines before the first bad one and nothing after', async () => {
    const node = await open('stop');
    const file = join(dir, 'stop.ndjson');
    writeFileSync(file, [patientLine(1), patientLine(2), conditionLine(1), '{"resourceType": "Patient", "name": [', conditionLine(2, 'nobody'), conditionLine(2)].join('\n'));
    const report = await importFile(node, file, { onError: 'stop', batchSize: 2, progress: false });
    assert.deepEqual(report.errors.map((e) => e.line), [4]);
    assert.equal(report.stopped, true);
    const ids = (await node.store.changesSince(0, 1000)).map((e) => `${e.resourceType}/${e.resourceId}`).sort();
    assert.deepEqual(ids, ['Condition/cond-1', 'Patient/pat-1', 'Patient/pat-2']);
  });

  it('a file sorted by type (Patients after the records that refer to them) imports in two passes', async () => {
    const node = await open('sorted');
    const file = join(dir, 'sorted.ndjson');
    writeFileSync(file, [conditionLine(40), conditionLine(41), 'not json', patientLine(40), patientLine(41)].join('\n'));
    const report = await importFile(node, file, { onError: 'skip', batchSize: 1, progress: false });
    assert.deepEqual(report.errors.map((e) => e.line), [3], 'line numbers are the file\'s');
    assert.equal(report.imported, 4);
    assert.equal(report.lines, 5);
    const order = (await node.store.changesSince(0, 1000)).map((e) => e.resourceId);
    assert.deepEqual(order, ['pat-40', 'pat-41', 'cond-40', 'cond-41'], 'Patients are written first');
  });

  it('validation on a worker thread reports the same lines and imports the same records', async () => {
    const node = await open('workers');
    const report = await importFile(node, fileWithBadLines(), { onError: 'skip', batchSize: 2, progress: false, workers: 1 });
    assert.deepEqual(report.errors.map((e) => e.line), [4, 5, 6]);
    assert.equal(report.imported, 5);
  });

  it('a bad reference in the middle of a batch does not take the rest of the batch with it', async () => {
    const node = await open('skip-mid-batch');
    const file = join(dir, 'mid.ndjson');
    writeFileSync(file, [patientLine(10), patientLine(12), conditionLine(10), conditionLine(11, 'nobody'), conditionLine(12)].join('\n'));
    const report = await importFile(node, file, { onError: 'skip', batchSize: 100, progress: false });
    assert.deepEqual(report.errors.map((e) => e.line), [4]);
    const ids = (await node.store.changesSince(0, 1000)).map((e) => e.resourceId).sort();
    assert.deepEqual(ids, ['cond-10', 'cond-12', 'pat-10', 'pat-12']);
  });

  it('importing the same patients twice does not duplicate them', async () => {
    const node = await open('twice');
    const file = join(dir, 'twice.ndjson');
    writeFileSync(file, [patientLine(20), patientLine(21)].join('\n'));
    await importFile(node, file, { onError: 'stop', progress: false });
    const second = await importFile(node, file, { onError: 'stop', progress: false });
    assert.equal(second.errors.length, 0);
    const noId = join(dir, 'noid.ndjson');
    const { id: _drop, ...withoutId } = JSON.parse(patientLine(20));
    writeFileSync(noId, JSON.stringify(withoutId));
    const fresh = JSON.parse(patientLine(22));
    delete fresh.id;
    writeFileSync(noId, [JSON.stringify(withoutId), JSON.stringify(fresh), JSON.stringify(fresh)].join('\n'));
    const third = await importFile(node, noId, { onError: 'stop', progress: false });
    assert.equal(third.existing, 2, 'one already in the record, one repeated within the batch');
    assert.equal(third.imported, 1);
    const page = await node.store.search({ resourceType: 'Patient', params: [], count: 10, offset: 0, total: true });
    assert.equal(page.total, 3);
  });

  it('export → import round trip gives the same records, Patients first', async () => {
    const source = await open('source');
    const file = join(dir, 'source.ndjson');
    const lines: string[] = [];
    // Conditions before their patients in the input: imported in two passes, Patients first.
    for (let i = 30; i < 60; i++) lines.push(conditionLine(i));
    for (let i = 30; i < 60; i++) lines.push(patientLine(i));
    writeFileSync(file, lines.join('\n'));
    const first = await importFile(source, file, { onError: 'stop', progress: false });
    assert.deepEqual(first.errors, []);
    const exported: string[] = [];
    for await (const line of exportNdjson(source.store)) exported.push(line);
    assert.equal(exported.length, 60);
    assert.equal(JSON.parse(exported[0]!).resourceType, 'Patient');
    const out = join(dir, 'export.ndjson');
    writeFileSync(out, exported.join('\n'));
    const target = await open('target');
    const report = await importFile(target, out, { onError: 'stop', batchSize: 7, progress: false });
    assert.deepEqual(report.errors, []);
    assert.equal(report.imported, 60);
    const strip = (l: string) => {
      const r = JSON.parse(l);
      delete r.meta;
      return JSON.stringify(r);
    };
    const again: string[] = [];
    for await (const line of exportNdjson(target.store)) again.push(line);
    assert.deepEqual(again.map(strip), exported.map(strip));
    assert.ok((await target.audit.verify()).ok);
  });
});

describe('steadfast command line (spawned)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'steadfast-bin-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('users add --password-stdin, users list, import with a bad line, export, audit verify', async () => {
    const data = join(dir, 'd');
    const add = await run(['users', 'add', '--data', data, '--init', '--username', 'reception1', '--role', 'receptionist', '--password-stdin'], 'a long passphrase\n');
    assert.equal(add.code, 0, add.stderr);
    const list = await run(['users', 'list', '--data', data]);
    assert.match(list.stdout, /reception1\s+receptionist/);
    const bad = await run(['users', 'add', '--data', data, '--username', 'x1', '--role', 'wizard', '--password-stdin'], 'a long passphrase');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /wizard/);

    const file = join(dir, 'in.ndjson');
    writeFileSync(file, [patientLine(70), 'not json', patientLine(71)].join('\n'));
    const imp = await run(['import', '--data', data, file, '--on-error', 'skip']);
    assert.equal(imp.code, 1, 'bad lines make the exit code non-zero');
    assert.match(imp.stderr, /^line 2: not valid JSON/m);
    assert.match(imp.stdout, /imported 2 resources/);

    const out = join(dir, 'out.ndjson');
    const exp = await run(['export', '--data', data, '--out', out]);
    assert.equal(exp.code, 0, exp.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 2);

    const verify = await run(['audit', 'verify', '--data', data]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /intact/);
  });

  it('regression: a mistyped --data silently created a new empty practice (refused unless --init; the error is not pushed off screen by the help)', async () => {
    const typo = join(dir, 'dtaa');
    const res = await run(['status', '--data', typo]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /There is no practice at .*dtaa/);
    assert.match(res.stderr, /--init/);
    assert.ok(!existsSync(typo), 'nothing was created');
    const init = await run(['status', '--data', typo, '--init']);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stderr, /note: starting a new empty practice/);
    assert.ok(existsSync(join(typo, 'steadfast.json')));
    const again = await run(['status', '--data', typo]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /new empty practice/, 'an existing practice opens without a note');

    const unknown = await run(['status', '--dtaa', typo]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown option '--dtaa'/);
    assert.ok(unknown.stderr.split('\n').filter(Boolean).length <= 3, `a short error, not the whole help: ${unknown.stderr}`);
  });

  it('--help works on each command', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['seed', '--help'], ['import', '--help'], ['export', '--help'], ['users', 'add', '--help'], ['audit', 'verify', '--help']]) {
      const res = await run(args);
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stdout, /Usage: steadfast/);
    }
  });
});

describe('import on PostgreSQL', { skip: (await postgresAvailable()) ? false : PG_SKIP_REASON }, () => {
  it('--on-error skip reports the bad line and imports the rest; a second import duplicates nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steadfast-cli-pg-'));
    const schema = `t_cli_${process.pid}_${Date.now().toString(36)}`;
    const node = await openNode({ dataDir: dir, databaseUrl: TEST_PG_URL, pgSchema: schema });
    try {
      const file = join(dir, 'in.ndjson');
      writeFileSync(file, [patientLine(80), conditionLine(80), conditionLine(81, 'nobody'), patientLine(82)].join('\n'));
      const first = await importFile(node, file, { onError: 'skip', batchSize: 10, progress: false });
      assert.deepEqual(first.errors.map((e) => e.line), [3]);
      assert.equal(first.imported, 3);
      const second = await importFile(node, file, { onError: 'skip', batchSize: 10, progress: false });
      assert.deepEqual(second.errors.map((e) => e.line), [3]);
      const page = await node.store.search({ resourceType: 'Patient', params: [], count: 10, offset: 0, total: true });
      assert.equal(page.total, 2);
      assert.ok((await node.audit.verify()).ok);
    } finally {
      await node.close();
      await dropHubSchema(schema);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
