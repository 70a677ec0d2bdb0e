/**
 * Property-based tests of HL7 parsing, mapping and filing (fast-check). Inputs that once broke
 * them are kept in fixtures/hl7/fuzz/ and replayed first, so a fixed crash stays fixed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { DiagnosticReport } from '@medplum/fhirtypes';
import { SteadfastError, testNhsNumber } from '@steadfast/domain';
import { parseOru, reportKey } from './oru.ts';
import { mapReport } from './map.ts';
import { buildOru, FIXTURE_DIR, readFixture } from '../testing/hl7-fixtures.ts';
import { ingestHl7 } from './ingest.ts';
import { addPatients, openPathologyStore } from '../testing/pathology-store.ts';

const FUZZ_DIR = new URL('fuzz/', FIXTURE_DIR);

/** Parse and map; the only acceptable failure is a SteadfastError. */
function parseAndMap(raw: string): void {
  try {
    const m = parseOru(raw);
    for (const r of m.reports) mapReport(m.header, r, { practice: 'A81001', reportKey: reportKey(r), patient: { reference: 'Patient/x' }, flags: [] });
  } catch (err) {
    if (!(err instanceof SteadfastError)) throw new Error(`non-SteadfastError for input ${JSON.stringify(raw.slice(0, 300))}: ${(err as Error)?.stack ?? err}`);
  }
}

const seeds = [
  readFixture('uk-wales-hba1c-fbc-oru-r01-v2.5.1.hl7'),
  readFixture('us-epic-oru-r01-v2.3.hl7'),
  readFixture('uk-nw-genomics-oru-r01-v2.5.1.hl7'),
  buildOru({ messageId: 'S1', nhsNumber: testNhsNumber(1), family: 'A', given: 'B', birthDate: '19700101', filler: 'F', test: ['FBC', 'FBC'], obx: [{ code: 'HB', display: 'Hb', value: '1', units: 'g/L', range: '1-2', flag: 'H' }] }),
];

/** A valid message with random edits: characters replaced, inserted, deleted; segments dropped or repeated. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(
      fc.tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'delete', 'dropSegment', 'dupSegment'), fc.oneof(fc.constantFrom('|', '^', '~', '\\', '&', '\r', '\n', '\u0000', '\u00e9', 'MSH|', 'OBX|', 'PID|'), fc.string({ maxLength: 4 }))),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([seed, edits]) => {
    let s = seed;
    for (const [pos, kind, text] of edits) {
      const i = s.length ? pos % s.length : 0;
      if (kind === 'replace') s = s.slice(0, i) + text + s.slice(i + 1);
      else if (kind === 'insert') s = s.slice(0, i) + text + s.slice(i);
      else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + text.length + 1);
      else {
        const lines = s.split(/\r\n|\r|\n/);
        const k = pos % lines.length;
        if (kind === 'dropSegment') lines.splice(k, 1);
        else lines.splice(k, 0, lines[k]!);
        s = lines.join('\r');
      }
    }
    return s;
  });

test('regression cases in fixtures/hl7/fuzz parse or fail with a SteadfastError', () => {
  for (const name of readdirSync(FUZZ_DIR).filter((n) => n.endsWith('.hl7'))) parseAndMap(readFileSync(new URL(name, FUZZ_DIR), 'utf8'));
});

test('property: parsing and mapping arbitrary text never throws anything but a SteadfastError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => parseAndMap(s)), { numRuns: 500 });
  fc.assert(fc.property(fc.string({ maxLength: 300 }).map((s) => `MSH|^~\\&|${s}`), (s) => parseAndMap(s)), { numRuns: 500 });
});

test('property: mutated real messages never throw anything but a SteadfastError', () => {
  fc.assert(fc.property(mutated, (s) => parseAndMap(s)), { numRuns: 1500 });
});

test('property: filing a mutated message files all of it or none of it', async () => {
  const { store, close } = await openPathologyStore();
  try {
    const [p] = await addPatients(store, [1]);
    const valid = buildOru({
      messageId: 'V', nhsNumber: p!.nhsNumber, family: p!.family, given: p!.given, birthDate: p!.birthDate.replace(/-/g, ''), filler: 'F', test: ['FBC', 'FBC'],
      obx: [
        { code: 'HB', display: 'Hb', value: '140', units: 'g/L', range: '130-180' },
        { code: 'WBC', display: 'WBC', value: '5', units: 'x10^9/L', range: '4-11' },
      ],
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('|', '^', '\r', 'OBX|9|NM|', '', 'X')), { minLength: 1, maxLength: 3 }),
        async (edits) => {
          let s = valid.replace('|F|', `|F${n++}|`); // a fresh order number each run
          for (const [pos, text] of edits) {
            const i = pos % s.length;
            s = s.slice(0, i) + text + s.slice(i + 1);
          }
          const before = (await store.search({ resourceType: 'DiagnosticReport', params: [], count: 1, offset: 0, total: true })).total!;
          const out = await ingestHl7({ store }, s, 'mllp');
          const page = await store.search({ resourceType: 'DiagnosticReport', params: [], count: 1000, offset: 0, total: true });
          if (out.state !== 'filed') {
            assert.equal(page.total, before, `nothing filed when ${out.state}: ${out.reason}`);
            return;
          }
          // Filed: every report of the message is complete (each Observation it lists exists).
          let expected: number;
          try {
            expected = parseOru(s).reports.filter((r) => r.observations.length >= 0).length;
          } catch {
            assert.fail('filed a message that does not parse');
          }
          assert.equal(out.reports.filter((r) => r.outcome === 'created' || r.outcome === 'updated' || r.outcome === 'duplicate' || r.outcome === 'stale').length, expected);
          for (const r of out.reports) {
            if (!r.reportId) continue;
            const dr = (await store.read('DiagnosticReport', r.reportId))!.resource as DiagnosticReport;
            for (const ref of dr.result ?? []) assert.ok(await store.read('Observation', ref.reference!.split('/')[1]!), `${ref.reference} exists`);
          }
        },
      ),
      { numRuns: 120 },
    );
  } finally {
    await close();
  }
});
