import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TASK_STATUS_CHOICES, taskStatusText } from './tasks.ts';

test('task statuses read in plain English, never as FHIR codes', () => {
  for (const s of ['draft', 'requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold', 'completed', 'cancelled', 'rejected', 'failed', 'entered-in-error']) {
    const text = taskStatusText(s);
    assert.notEqual(text, s, s);
    assert.match(text, /^[A-Z][a-z]/, `${s} → ${text} is a sentence-case phrase`);
  }
  assert.equal(taskStatusText('requested'), 'To do');
  assert.equal(taskStatusText('completed'), 'Done');
  assert.equal(taskStatusText('nonsense'), 'Unknown status');
  assert.deepEqual([...TASK_STATUS_CHOICES], ['requested', 'in-progress', 'on-hold', 'completed', 'cancelled']);
});
