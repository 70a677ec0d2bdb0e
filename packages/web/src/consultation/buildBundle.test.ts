import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConsultationBundle, consultationProblems, emptyDraft } from './buildBundle.ts';
import { clearDraft, loadDraft, saveDraft, type DraftStorage } from './drafts.ts';

let n = 0;
const opts = { author: { name: 'Dr Ann Jones' }, now: '2026-11-25T10:00:00.000Z', uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` };

test('a consultation is one transaction: Encounter, Conditions and Observations referring to the Encounter', () => {
  const d = {
    ...emptyDraft('p1', 'SMITH, Jane', 'u1'),
    history: 'Cough for 3 weeks <worse at night>',
    plan: 'Chest X-ray',
    coded: [
      { code: '38341003', display: 'Hypertensive disorder', kind: 'problem' as const },
      { code: '49727002', display: 'Cough', kind: 'finding' as const },
    ],
    vitals: { systolic: '150', diastolic: '92', pulse: '80' },
  };
  const b = buildConsultationBundle(d, opts);
  assert.equal(b.type, 'transaction');
  const types = b.entry!.map((e) => e.resource!.resourceType);
  assert.deepEqual(types, ['Encounter', 'Condition', 'Condition', 'Observation', 'Observation']);
  const encUrl = b.entry![0]!.fullUrl!;
  assert.match(encUrl, /^urn:uuid:/);
  for (const e of b.entry!.slice(1)) assert.equal((e.resource as { encounter?: { reference?: string } }).encounter?.reference, encUrl);
  for (const e of b.entry!) assert.equal(e.request?.method, 'POST');
  const enc = b.entry![0]!.resource as { text?: { div: string }; extension?: Array<{ extension?: Array<{ url: string }> }> };
  assert.match(enc.text!.div, /&lt;worse at night&gt;/, 'free text is escaped in the narrative');
  assert.deepEqual(enc.extension![0]!.extension!.map((x) => x.url), ['history', 'plan']);
  const cats = b.entry!.slice(1, 3).map((e) => (e.resource as { category: Array<{ coding: Array<{ code: string }> }> }).category[0]!.coding[0]!.code);
  assert.deepEqual(cats, ['problem-list-item', 'encounter-diagnosis']);
});

test('an empty consultation or an impossible reading cannot be saved', () => {
  assert.equal(consultationProblems(emptyDraft('p1', 'X', 'u1')).length, 1);
  assert.match(consultationProblems({ ...emptyDraft('p1', 'X', 'u1'), vitals: { pulse: '900' } }).join(), /not possible/);
  assert.deepEqual(consultationProblems({ ...emptyDraft('p1', 'X', 'u1'), history: 'Well' }), []);
});

function memoryStorage(): DraftStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

test('drafts are kept per user and patient and never restored for another patient', () => {
  const s = memoryStorage();
  const d = { ...emptyDraft('p1', 'SMITH, Jane', 'u1'), history: 'Headache' };
  assert.equal(saveDraft(s, d), true);
  assert.equal(loadDraft(s, 'u1', 'p1')?.history, 'Headache');
  assert.equal(loadDraft(s, 'u1', 'p2'), undefined);
  assert.equal(loadDraft(s, 'u2', 'p1'), undefined);
  // A draft stored under the wrong key (tampered or corrupted) is not shown for this patient.
  s.setItem('steadfast.draft.consultation.u1.p2', JSON.stringify({ ...d }));
  assert.equal(loadDraft(s, 'u1', 'p2'), undefined);
  clearDraft(s, 'u1', 'p1');
  assert.equal(loadDraft(s, 'u1', 'p1'), undefined);
});

test('a full or disabled storage is reported, not thrown', () => {
  const s: DraftStorage = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); }, removeItem: () => undefined };
  assert.equal(saveDraft(s, emptyDraft('p1', 'X', 'u1')), false);
});
