/**
 * The test catalogue: what a clinician can request, which tube it needs, and which laboratory codes
 * mean the same test (so an incoming result can be recognised, and flagged when it cannot).
 * A bundled JSON file gives the defaults; a practice administrator's edits live in
 * `pathology_catalogue` and replace or retire bundled entries without touching the file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SteadfastError } from '@steadfast/domain';
import type { Kysely } from 'kysely';
import { pdb } from './tables.ts';

export const SNOMED = 'http://snomed.info/sct';

const tubeSchema = z.object({
  colour: z.string().min(1).max(40),
  additive: z.string().min(1).max(80),
  volumeMl: z.number().positive().max(100),
});

export const catalogueTestSchema = z.object({
  code: z.string().regex(/^[A-Z0-9][A-Z0-9-]{0,31}$/, 'upper-case letters, digits and dashes, up to 32'),
  display: z.string().min(1).max(120),
  snomed: z.string().regex(/^\d{6,18}$/).optional(),
  snomedDisplay: z.string().max(200).optional(),
  snomedNote: z.string().max(200).optional(),
  specimen: z.string().min(1).max(80),
  tube: tubeSchema,
  aliases: z.array(z.string().min(1).max(64)).max(50).optional(),
  includes: z.array(z.string().max(80)).max(50).optional(),
  fastingOption: z.boolean().optional(),
  note: z.string().max(200).optional(),
});
export type CatalogueTest = z.infer<typeof catalogueTestSchema>;

export interface CatalogueProfile {
  code: string;
  display: string;
  tests: string[];
}

export interface Catalogue {
  tests: CatalogueTest[];
  profiles: CatalogueProfile[];
}

let bundled: Catalogue | undefined;

/** The catalogue shipped with Steadfast (validated once, so a bad edit to the file fails loudly). */
export function bundledCatalogue(): Catalogue {
  if (!bundled) {
    const json = JSON.parse(readFileSync(new URL('./catalogue.json', import.meta.url), 'utf8')) as { tests: unknown[]; profiles: CatalogueProfile[] };
    bundled = { tests: json.tests.map((t) => catalogueTestSchema.parse(t)), profiles: json.profiles };
  }
  return bundled;
}

// Result ingest looks the catalogue up for every message; edits go through this module, which clears it.
const cache = new WeakMap<object, Map<string, Promise<Catalogue>>>();

/** Bundled entries overlaid with the practice's edits (cached per database until the next edit). */
export function loadCatalogue(db: Kysely<any>, practice: string): Promise<Catalogue> {
  let perDb = cache.get(db);
  if (!perDb) cache.set(db, (perDb = new Map()));
  let entry = perDb.get(practice);
  if (!entry) {
    entry = readCatalogue(db, practice);
    entry.catch(() => perDb!.delete(practice));
    perDb.set(practice, entry);
  }
  return entry;
}

function forgetCatalogue(db: Kysely<any>, practice: string): void {
  cache.get(db)?.delete(practice);
}

async function readCatalogue(db: Kysely<any>, practice: string): Promise<Catalogue> {
  const base = bundledCatalogue();
  const rows = await pdb(db).selectFrom('pathology_catalogue').selectAll().where('practice', '=', practice).execute();
  const byCode = new Map(base.tests.map((t) => [t.code, t]));
  for (const row of rows) {
    if (row.retired) byCode.delete(row.code);
    else byCode.set(row.code, catalogueTestSchema.parse(JSON.parse(row.entry)));
  }
  return { tests: [...byCode.values()], profiles: base.profiles };
}

/** Validate an edit from the practice administrator; names the field and the fix. */
export function parseCatalogueEdit(code: string, body: unknown): CatalogueTest {
  const result = catalogueTestSchema.safeParse({ ...(body as object), code });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new SteadfastError('invalid', `Catalogue entry ${code}: ${issue.message}`, {
      field: issue.path.join('.') || 'body',
      hint: 'Send { display, specimen, tube: { colour, additive, volumeMl } } and optional snomed, aliases',
    });
  }
  return result.data;
}

export async function saveCatalogueEdit(db: Kysely<any>, practice: string, test: CatalogueTest, userId: string, now = new Date()): Promise<void> {
  const row = { practice, code: test.code, entry: JSON.stringify(test), retired: 0, updated_at: now.toISOString(), updated_by: userId };
  await pdb(db)
    .insertInto('pathology_catalogue')
    .values(row)
    .onConflict((oc) => oc.columns(['practice', 'code']).doUpdateSet({ entry: row.entry, retired: 0, updated_at: row.updated_at, updated_by: userId }))
    .execute();
  forgetCatalogue(db, practice);
}

export async function retireCatalogueEntry(db: Kysely<any>, practice: string, code: string, userId: string, now = new Date()): Promise<void> {
  const row = { practice, code, entry: '{}', retired: 1, updated_at: now.toISOString(), updated_by: userId };
  await pdb(db)
    .insertInto('pathology_catalogue')
    .values(row)
    .onConflict((oc) => oc.columns(['practice', 'code']).doUpdateSet({ retired: 1, updated_at: row.updated_at, updated_by: userId }))
    .execute();
  forgetCatalogue(db, practice);
}

/** Expand requested codes (tests or profiles) into distinct catalogue tests; unknown codes are an error. */
export function resolveTests(catalogue: Catalogue, codes: string[]): CatalogueTest[] {
  const byCode = new Map(catalogue.tests.map((t) => [t.code, t]));
  const out = new Map<string, CatalogueTest>();
  const unknown: string[] = [];
  for (const raw of codes) {
    const code = raw.trim().toUpperCase();
    const profile = catalogue.profiles.find((p) => p.code === code);
    const members = profile ? profile.tests : [code];
    for (const m of members) {
      const t = byCode.get(m);
      if (t) out.set(t.code, t);
      else unknown.push(m);
    }
  }
  if (unknown.length) {
    throw new SteadfastError('invalid', `Unknown test code(s): ${unknown.join(', ')}`, {
      field: 'tests',
      hint: 'Choose tests from GET /api/pathology/catalogue, or ask the practice administrator to add them',
    });
  }
  if (out.size === 0) throw new SteadfastError('required', 'At least one test is required', { field: 'tests', hint: 'Pick one or more tests' });
  return [...out.values()];
}

/** Find the catalogue test a laboratory code stands for (our code, an alias, or a SNOMED CT code). */
export function findByLabCode(catalogue: Catalogue, code: string, system?: string): CatalogueTest | undefined {
  const c = code.trim().toUpperCase();
  if (!c) return undefined;
  return catalogue.tests.find(
    (t) =>
      t.code === c ||
      (t.snomed !== undefined && t.snomed === c && (!system || system === SNOMED || /SNOMED|SCT|SNM/i.test(system))) ||
      (t.aliases ?? []).some((a) => a.toUpperCase() === c),
  );
}

/** Tubes needed for a set of tests: one per distinct tube type, largest volume wins. */
export function tubesFor(tests: CatalogueTest[]): Array<CatalogueTest['tube'] & { specimen: string; tests: string[] }> {
  const byKey = new Map<string, CatalogueTest['tube'] & { specimen: string; tests: string[] }>();
  for (const t of tests) {
    const key = `${t.specimen}|${t.tube.colour}|${t.tube.additive}`;
    const existing = byKey.get(key);
    if (existing) {
      existing.tests.push(t.code);
      existing.volumeMl = Math.max(existing.volumeMl, t.tube.volumeMl);
    } else byKey.set(key, { ...t.tube, specimen: t.specimen, tests: [t.code] });
  }
  return [...byKey.values()];
}
