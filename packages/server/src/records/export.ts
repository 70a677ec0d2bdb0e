/**
 * FHIR bulk NDJSON export of the current version of every record: Patients first, then the types
 * that others refer to, so that importing the file elsewhere resolves every patient reference.
 */
import type { RecordStore } from '@steadfast/store';
import { resourceTypes } from '@steadfast/domain';

const exportOrder: string[] = [
  'Patient',
  'Organization',
  'Location',
  'Practitioner',
  'PractitionerRole',
  ...resourceTypes.filter((t) => !['Patient', 'Organization', 'Location', 'Practitioner', 'PractitionerRole', 'AuditEvent'].includes(t)),
];

/** Yields one JSON line (without newline) per live resource. */
export async function* exportNdjson(store: RecordStore, options: { types?: string[]; pageSize?: number } = {}): AsyncGenerator<string> {
  const pageSize = options.pageSize ?? 2000;
  for (const type of options.types ?? exportOrder) {
    let after = '';
    for (;;) {
      const rows = await store.db
        .selectFrom('resources as r')
        .innerJoin('change_log as c', (j) => j.onRef('c.practice', '=', 'r.practice').onRef('c.seq', '=', 'r.seq'))
        .select(['r.id', 'c.body'])
        .where('r.practice', '=', store.practice)
        .where('r.resource_type', '=', type)
        .where('r.deleted', '=', 0)
        .where('r.id', '>', after)
        .orderBy('r.id')
        .limit(pageSize)
        .execute();
      for (const row of rows) if (row.body) yield row.body;
      if (rows.length < pageSize) break;
      after = rows.at(-1)!.id;
    }
  }
}

/** How many live resources an export will write (for a progress bar). */
export async function countResources(store: RecordStore): Promise<number> {
  const row = await store.db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('practice', '=', store.practice)
    .where('deleted', '=', 0)
    .where('resource_type', '!=', 'AuditEvent')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
