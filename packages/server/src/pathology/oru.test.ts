import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SteadfastError, testNhsNumber } from '@steadfast/domain';
import { parseOru, reportFingerprint, reportKey } from './oru.ts';
import { mapReport } from './map.ts';
import { buildOru, readFixture } from '../testing/hl7-fixtures.ts';
import { hl7DateTime } from './hl7.ts';

const isErr = (code: string, field?: RegExp) => (e: unknown) =>
  e instanceof SteadfastError && e.code === code && (!field || field.test(e.field ?? ''));

test('the Welsh sample parses: NHS number, two reports, corrected HbA1c, escaped units', () => {
  const m = parseOru(readFixture('uk-wales-hba1c-fbc-oru-r01-v2.5.1.hl7'));
  assert.equal(m.patient.nhsNumber, '5189214567');
  assert.equal(m.patient.family, 'Bloggs');
  assert.equal(m.patient.birthDate, '2001-03-28');
  assert.equal(m.reports.length, 2);
  assert.equal(m.reports[0]!.status, 'C');
  assert.equal(m.reports[0]!.observations[0]!.value, '49');
  assert.equal(m.reports[1]!.observations[0]!.units, 'x10^9/L');
  assert.equal(m.reports[1]!.observations[1]!.flags[0], 'H');
  assert.match(m.reports[0]!.notes[0]!, /NICE guidelines/);
});

test('every public sample parses whatever the line endings (CR, LF, CRLF)', () => {
  for (const name of ['uk-nw-genomics-oru-r01-v2.5.1.hl7', 'uk-wales-hba1c-fbc-oru-r01-v2.5.1.hl7', 'us-cerner-oru-r01-v2.3.hl7', 'us-epic-oru-r01-v2.3.hl7']) {
    const lf = readFixture(name).replace(/\r\n?/g, '\n');
    for (const text of [lf, lf.replace(/\n/g, '\r'), lf.replace(/\n/g, '\r\n')]) {
      const m = parseOru(text);
      assert.ok(m.reports.length >= 1, name);
    }
  }
  const us = parseOru(readFixture('us-epic-oru-r01-v2.3.hl7'));
  assert.equal(us.patient.nhsNumber, undefined, 'a US MRN is never taken for an NHS number');
  assert.equal(us.patient.birthDate, undefined, 'the literal text "DOB" is not a date');
  const nw = parseOru(readFixture('uk-nw-genomics-oru-r01-v2.5.1.hl7'));
  assert.equal(nw.patient.nhsNumber, '9449305552');
  assert.equal(nw.reports[0]!.attachments[0]!.contentType, 'application/pdf');
});

test('FHIR mapping carries value, units, range, interpretation and status', () => {
  const m = parseOru(readFixture('uk-wales-hba1c-fbc-oru-r01-v2.5.1.hl7'));
  const fbc = m.reports[1]!;
  const { report, observations } = mapReport(m.header, fbc, { practice: 'A81001', reportKey: reportKey(fbc), patient: { reference: 'Patient/p1' }, flags: [] });
  assert.equal(report.status, 'final');
  assert.equal(report.result?.length, 7);
  const wbc = observations[0]!;
  assert.deepEqual(wbc.valueQuantity, { value: 3.5, unit: 'x10^9/L' });
  assert.equal(wbc.referenceRange?.[0]?.low?.value, 4);
  assert.equal(wbc.referenceRange?.[0]?.high?.value, 11);
  assert.equal(wbc.interpretation?.[0]?.coding?.[0]?.code, 'L');
  assert.equal(wbc.status, 'final');
  const hba1c = m.reports[0]!;
  const mapped = mapReport(m.header, hba1c, { practice: 'A81001', reportKey: reportKey(hba1c), patient: { reference: 'Patient/p1' }, flags: ['correction'] });
  assert.equal(mapped.report.status, 'corrected');
  assert.equal(mapped.observations[0]!.referenceRange?.[0]?.high?.value, 48);
  assert.equal(mapped.report.meta?.tag?.[0]?.code, 'correction');
});

test('critical flags HH and LL and comparators map', () => {
  const raw = buildOru({
    messageId: 'M1', nhsNumber: testNhsNumber(1), family: 'Test', given: 'Ann', birthDate: '19700101', filler: 'L1', test: ['UE', 'U&E'],
    obx: [
      { code: 'K', display: 'Potassium', value: '7.1', units: 'mmol/L', range: '3.5-5.3', flag: 'HH' },
      { code: 'NA', display: 'Sodium', value: '118', units: 'mmol/L', range: '133-146', flag: 'LL' },
      { code: 'EGFR', display: 'eGFR', value: '>90', units: 'mL/min/1.73m2', range: '>60' },
    ],
  });
  const m = parseOru(raw);
  const { observations } = mapReport(m.header, m.reports[0]!, { practice: 'A', reportKey: 'k', patient: { reference: 'Patient/p' }, flags: [] });
  assert.equal(observations[0]!.interpretation?.[0]?.coding?.[0]?.code, 'HH');
  assert.equal(observations[1]!.interpretation?.[0]?.coding?.[0]?.code, 'LL');
  assert.deepEqual(observations[2]!.valueQuantity, { value: 90, comparator: '>', unit: 'mL/min/1.73m2' });
  assert.equal(observations[2]!.referenceRange?.[0]?.low?.value, 60);
});

test('the fingerprint ignores the message id and whitespace but not content or status', () => {
  const spec = {
    messageId: 'A', nhsNumber: testNhsNumber(2), family: 'Test', given: 'Bob', birthDate: '19800101', filler: 'L2', test: ['FBC', 'Full blood count'] as [string, string],
    obx: [{ code: 'HB', display: 'Haemoglobin', value: '140', units: 'g/L', range: '130-180' }],
  };
  const a = parseOru(buildOru(spec)).reports[0]!;
  const b = parseOru(buildOru({ ...spec, messageId: 'B' }, '\n')).reports[0]!;
  const c = parseOru(buildOru({ ...spec, obx: [{ ...spec.obx[0]!, value: '141' }] })).reports[0]!;
  const d = parseOru(buildOru({ ...spec, status: 'C' })).reports[0]!;
  assert.equal(reportFingerprint(a), reportFingerprint(b));
  assert.notEqual(reportFingerprint(a), reportFingerprint(c));
  assert.notEqual(reportFingerprint(a), reportFingerprint(d));
  assert.equal(reportKey(a), reportKey(d), 'a correction is the same report');
});

test('bad input fails with a SteadfastError naming the segment', () => {
  assert.throws(() => parseOru('hello'), isErr('invalid', /MSH/));
  assert.throws(() => parseOru('MSH|^~\\&|A|B|C|D|20200101||ADT^A01|1|P|2.5.1'), isErr('not-supported', /MSH-9/));
  assert.throws(() => parseOru('MSH|^~\\&|A|B|C|D|20200101||ORU^R01|1|P|2.8'), isErr('not-supported', /MSH-12/));
  assert.throws(() => parseOru('MSH|^~\\&|A|B|C|D|20200101||ORU^R01|1|P|2.5.1\rOBR|1||F1|X^Y'), isErr('invalid', /PID/));
  assert.throws(() => parseOru('MSH|^~\\&|A|B|C|D|20200101||ORU^R01|1|P|2.5.1\rPID|1||1^^^NHS^NH||A^B'), isErr('invalid', /OBR/));
  assert.throws(() => parseOru('MSH|^~\\&|A|B|C|D|20200101||ORU^R01|1|P|2.5.1\rPID|1||x||A^B\rOBR|1|||X^Y'), isErr('invalid', /OBR-3/));
  assert.throws(() => parseOru('MSH|^~\\&|A|B|C|D|20200101||ORU^R01|1|P|2.5.1\rPID|1||x||A^B\rOBX|1|NM|A^B||1'), isErr('invalid', /OBX/));
  assert.throws(() => parseOru('MSH|^~\\&|A|B|C|D|20200101||ORU^R01|1|P|2.5.1\rPID|1||x||A^B\rOBR|1||F|X^Y\rbroken line'), isErr('invalid', /segment 4/));
});

test('an NHS number failing Modulus 11 is kept aside and never used', () => {
  const m = parseOru('MSH|^~\\&|A|B|C|D|20200101||ORU^R01|1|P|2.5.1\rPID|1||9991234560^^^NHS^NH||A^B||19700101\rOBR|1||F|X^Y');
  assert.equal(m.patient.nhsNumber, undefined);
  assert.equal(m.patient.invalidNhsNumber, '9991234560');
});

test('HL7 timestamps become FHIR dateTimes with a UK offset when none is sent', () => {
  assert.equal(hl7DateTime('201803091500'), '2018-03-09T15:00:00+00:00');
  assert.equal(hl7DateTime('201807091500'), '2018-07-09T15:00:00+01:00');
  assert.equal(hl7DateTime('20190514102527+0200'), '2019-05-14T10:25:27+02:00');
  assert.equal(hl7DateTime('20180309'), '2018-03-09');
  assert.equal(hl7DateTime('DOB'), undefined);
  assert.equal(hl7DateTime('20181399'), undefined);
});
