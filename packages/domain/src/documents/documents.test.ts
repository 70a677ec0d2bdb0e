import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidConceptId } from '../codes/sctid.ts';
import { DOCUMENT_TYPES, findIdentifiers, foldDays, htmlToText, proposeMatch, rtfToText, sniffDocument, type MatchCandidate } from './index.ts';

// 943 476 5919 is the NHS's own published example; 999 numbers are the test range.
const ALEX: MatchCandidate = { id: 'p1', nhsNumber: '9990000018', families: ['Testpatient'], givens: ['Alex'], birthDate: '1980-03-12', postcodes: ['LS1 4AP'], display: 'TESTPATIENT, Alex' };
const SAM: MatchCandidate = { id: 'p2', nhsNumber: '9990000026', families: ["O'Brien"], givens: ['Sam'], birthDate: '1955-11-01', postcodes: ['M1 1AE'], display: "O'BRIEN, Sam" };

describe('documents: identifiers in text', () => {
  it('finds NHS numbers printed with spaces, dashes or none, and only Modulus 11 valid ones', () => {
    const f = findIdentifiers('NHS No: 999 000 0018\nalso 999-000-0026 and 9990000019 (a typo)');
    assert.deepEqual(f.nhsNumbers, ['9990000018', '9990000026']);
    assert.deepEqual(f.invalidNhsNumbers, ['9990000019']);
  });

  it('does not read a longer number (a phone number, an order number) as an NHS number', () => {
    assert.deepEqual(findIdentifiers('Tel 01132433144 ref 99900000181').nhsNumbers, []);
  });

  it('reads dates of birth day first, with the label, in the ways letters print them', () => {
    const f = findIdentifiers('DOB: 12/03/1980. Seen on 3rd December 2026. Date of birth 1 Nov 1955; 2026-12-01');
    assert.deepEqual(f.birthDates, ['1980-03-12', '1955-11-01']);
    assert.ok(f.dates.includes('2026-12-03'));
    assert.ok(f.dates.includes('2026-12-01'));
  });

  it('refuses impossible dates (31/02) rather than rolling them over', () => {
    assert.deepEqual(findIdentifiers('DOB 31/02/1980').dates, []);
  });

  it('finds postcodes with or without the space and normalises them', () => {
    assert.deepEqual(findIdentifiers('1 High St, Leeds LS14AP. Or m1 1ae').postcodes, ['LS1 4AP', 'M1 1AE']);
  });
});

describe('documents: proposing a patient', () => {
  const letter = 'Re: Alex TESTPATIENT  DOB 12/03/1980  NHS number 999 000 0018\n1 Park Row, Leeds LS1 4AP';

  it('proposes when the NHS number and another identifier agree, naming what agreed', () => {
    const p = proposeMatch(letter, findIdentifiers(letter), [ALEX]);
    assert.equal(p.proposed?.patientId, 'p1');
    assert.deepEqual(p.proposed?.agreed, ['nhs-number', 'birth-date', 'name', 'postcode']);
  });

  it('never proposes on the NHS number alone', () => {
    const text = 'NHS number 9990000018. Patient: Jo Bloggs DOB 01/01/2001';
    const p = proposeMatch(text, findIdentifiers(text), [ALEX]);
    assert.equal(p.proposed, undefined);
    assert.match(p.notes.join(' '), /no name, date of birth or postcode in the document agrees/);
  });

  it('never proposes on name and date of birth without a valid NHS number', () => {
    const text = 'Alex Testpatient DOB 12/03/1980 NHS 9990000019';
    const p = proposeMatch(text, findIdentifiers(text), [ALEX]);
    assert.equal(p.proposed, undefined);
    assert.match(p.notes[0]!, /fails the Modulus 11 check/);
  });

  it('a family name alone is not a name match (both given and family must appear)', () => {
    const text = 'NHS 9990000018 Mr Testpatient';
    assert.equal(proposeMatch(text, findIdentifiers(text), [ALEX]).proposed, undefined);
  });

  it('proposes nobody when the letter names two registered patients who each match', () => {
    const text = `${letter}\nCopy about Sam O'Brien, NHS 999 000 0026, DOB 01/11/1955`;
    const p = proposeMatch(text, findIdentifiers(text), [ALEX, SAM]);
    assert.equal(p.proposed, undefined);
    assert.match(p.notes.join(' '), /names 2 registered patients/);
  });

  it('proposes nobody when two records share the NHS number', () => {
    const p = proposeMatch(letter, findIdentifiers(letter), [ALEX, { ...ALEX, id: 'p9' }]);
    assert.equal(p.proposed, undefined);
    assert.match(p.notes.join(' '), /More than one record/);
  });
});

describe('documents: what a file is', () => {
  const b = (s: string) => new TextEncoder().encode(s);
  it('knows a PDF, an image, RTF and HTML by their bytes, whatever the name says', () => {
    assert.equal(sniffDocument(b('%PDF-1.7\n...'), 'letter.txt').kind, 'pdf');
    assert.equal(sniffDocument(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d]), 'x.pdf').imageType, 'png');
    assert.equal(sniffDocument(b('{\\rtf1\\ansi hello}')).kind, 'rtf');
    assert.equal(sniffDocument(b('<!DOCTYPE html><html><body>x')).kind, 'html');
    assert.equal(sniffDocument(b('Dear Doctor,\nplain text')).kind, 'text');
  });
  it('never opens an archive (a zip bomb) and says why', () => {
    const s = sniffDocument(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]), 'results.zip');
    assert.equal(s.kind, 'unknown');
    assert.match(s.problem!, /archives are not opened/);
  });
  it('says when it cannot show a file', () => {
    assert.match(sniffDocument(new Uint8Array([0, 1, 2, 3, 200, 201]), 'scan.xyz').problem!, /cannot show this type of file \(scan.xyz\)/);
  });
});

describe('documents: text of HTML and RTF letters', () => {
  it('drops scripts and tags and decodes entities', () => {
    const t = htmlToText('<p>NHS&nbsp;no 999 000 0018</p><script>alert(1)</script><b>O&#39;Brien</b>');
    assert.match(t, /NHS no 999 000 0018/);
    assert.doesNotMatch(t, /alert/);
    assert.match(t, /O'Brien/);
  });
  it('drops RTF control words and decodes escapes', () => {
    assert.match(rtfToText("{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0\\fs24 Dr M\\'fcller\\par NHS 999 000 0018}"), /Dr Müller\nNHS 999 000 0018/);
  });
});

describe('documents: types', () => {
  it('every document type is a valid SNOMED CT concept id', () => {
    for (const t of DOCUMENT_TYPES) assert.ok(isValidConceptId(t.code), `${t.key} ${t.code}`);
  });
});

describe('documents: the backlog by day', () => {
  it('folds hours into London days across the clock change, every day present', () => {
    // 25 October 2026: BST ends. 23:00 UTC on the 24th is 00:00 BST on the 25th; 23:00 UTC on the 25th is 23:00 GMT, still the 25th.
    const days = foldDays('2026-10-24', '2026-10-26', [{ hour: '2026-10-24T23', n: 2 }, { hour: '2026-10-25T23', n: 1 }], [{ hour: '2026-10-24T22', n: 1 }]);
    assert.deepEqual(days, [
      { date: '2026-10-24', arrived: 0, filed: 1 },
      { date: '2026-10-25', arrived: 3, filed: 0 },
      { date: '2026-10-26', arrived: 0, filed: 0 },
    ]);
  });
});
