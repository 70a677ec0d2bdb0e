/**
 * The drill's letters check can fail: a letter missing at the hub, the same bytes as two
 * DocumentReferences, a filing that did not arrive, and bytes absent, stored twice or damaged are each
 * named; the letters as they should be pass. Pure (no processes): the whole drill is drill.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { documentId } from '../documents/replica.ts';
import { checkLetters, hubDocuments, type DrillLetter, type HubBlob, type HubDocument } from './documents.ts';
import type { HubEntry } from './verify.ts';

const P = 'D80001';
const sha = (n: number) => n.toString(16).padStart(64, '0');
const letter = (n: number, filed = false): DrillLetter => ({ practice: P, day: 1, sha256: sha(n), id: documentId(P, sha(n)), filed });
const atHub = (l: DrillLetter, docStatus = l.filed ? 'final' : 'preliminary'): HubDocument => ({ practice: P, resourceId: l.id, blob: l.sha256, docStatus });
const whole = (letters: DrillLetter[]) => new Map<string, HubBlob>(letters.map((l) => [`${P}|${l.sha256}`, { copies: 1, actual: l.sha256 }]));

describe('drill: the letters check', () => {
  const letters = [letter(1, true), letter(2), letter(3)];

  test('every letter once at the hub, filed as filed, bytes whole: nothing to report', () => {
    const v = checkLetters(letters, letters.map((l) => atHub(l)), whole(letters));
    assert.deepEqual(v, { taken: 3, filedInCut: 1, atHub: 3, missing: [], duplicated: [], notFiled: [], bytes: [] });
  });

  test('a missing letter fails the check, naming it', () => {
    const v = checkLetters(letters, letters.slice(1).map((l) => atHub(l)), whole(letters));
    assert.equal(v.atHub, 2);
    assert.deepEqual(v.missing, [`${P} day 1 letter ${letters[0]!.id}`]);
  });

  test('a duplicated letter (the same bytes as a second DocumentReference) fails the check', () => {
    const copy: HubDocument = { practice: P, resourceId: 'another-id', blob: letters[1]!.sha256, docStatus: 'preliminary' };
    const v = checkLetters(letters, [...letters.map((l) => atHub(l)), copy], whole(letters));
    assert.deepEqual(v.missing, []);
    assert.equal(v.duplicated.length, 1);
    assert.match(v.duplicated[0]!, /is 2 DocumentReferences at the hub/);
  });

  test('a filing that did not reach the hub, and bytes absent, stored twice or damaged, fail the check', () => {
    const blobs = whole(letters);
    blobs.delete(`${P}|${letters[0]!.sha256}`);
    blobs.set(`${P}|${letters[1]!.sha256}`, { copies: 2, actual: letters[1]!.sha256 });
    blobs.set(`${P}|${letters[2]!.sha256}`, { copies: 1, actual: sha(99) });
    const v = checkLetters(letters, [atHub(letters[0]!, 'preliminary'), atHub(letters[1]!), atHub(letters[2]!)], blobs);
    assert.equal(v.notFiled.length, 1);
    assert.deepEqual(v.bytes.map((b) => b.replace(/.*: /, '')), ['its bytes are not at the hub', 'its bytes are stored 2 times at the hub', `the hub's bytes hash to ${sha(99)}`]);
  });

  test('the hub log read as documents: the latest version of each DocumentReference, its bytes from the workflow row', () => {
    const row = (docStatus: string) => ({ resourceType: 'DocumentReference', id: letters[0]!.id, docStatus, extension: [{ url: 'https://steadfast.example/fhir/StructureDefinition/document-workflow', valueString: JSON.stringify({ v: 1, row: { id: letters[0]!.id, blob: letters[0]!.sha256 } }) }] });
    const entries: HubEntry[] = [
      { practice: P, entryId: 'e1', resourceType: 'DocumentReference', resourceId: letters[0]!.id, body: row('preliminary') },
      { practice: P, entryId: 'e2', resourceType: 'Patient', resourceId: 'p1', body: { resourceType: 'Patient', id: 'p1' } },
      { practice: P, entryId: 'e3', resourceType: 'DocumentReference', resourceId: letters[0]!.id, body: row('final') },
    ];
    assert.deepEqual(hubDocuments(entries), [{ practice: P, resourceId: letters[0]!.id, blob: letters[0]!.sha256, docStatus: 'final' }]);
  });
});
