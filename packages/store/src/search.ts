/**
 * Turns a SearchRequest into one SQL query over the search index. Each parameter becomes a join on
 * search_index, so the planner can start from the most selective one (e.g. NHS number, or birth date
 * before a name prefix) instead of scanning resources.
 */
import { sql, type Expression, type Kysely, type SqlBool, type ExpressionBuilder } from 'kysely';
import { dateRange, normalisePhone, normaliseString, searchParameters, SteadfastError, type SupportedResourceType } from '@steadfast/domain';
import type { SearchParamValue, SearchRequest } from './RecordStore.ts';
import type { Database } from './schema.ts';

/** Reference parameters whose bare ids ("patient=123") mean a known type. */
const referenceTargets: Record<string, string> = {
  patient: 'Patient',
  subject: 'Patient',
  practitioner: 'Practitioner',
  'general-practitioner': 'Practitioner',
  encounter: 'Encounter',
  schedule: 'Schedule',
  slot: 'Slot',
  'based-on': 'ServiceRequest',
};

const datePrefixes = ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] as const;

type SearchTable = ExpressionBuilder<Database & { s: Database['search_index'] }, 's'>;

function unknownParam(resourceType: string, name: string): SteadfastError {
  const valid = Object.keys(searchParameters[resourceType as SupportedResourceType] ?? {});
  return new SteadfastError('invalid', `Unknown search parameter "${name}" for ${resourceType}`, {
    field: name,
    hint: `Use one of: ${['_id', '_lastUpdated', '_count', '_sort', '_total', ...valid].join(', ')}`,
  });
}

/** SQL condition on alias `s` for one value of one parameter. */
function valueCondition(eb: SearchTable, resourceType: string, p: SearchParamValue, raw: string, alias: 's' | 'f' = 's'): Expression<SqlBool> {
  const col = (c: 'value' | 'value_end' | 'system') => `${alias}.${c}` as 's.value';
  const def = searchParameters[resourceType as SupportedResourceType]?.[p.name];
  if (!def) throw unknownParam(resourceType, p.name);
  switch (def.kind) {
    case 'string': {
      const v = normaliseString(raw);
      if (!v) throw new SteadfastError('invalid', `Search value "${raw}" for ${p.name} has no letters or digits`, { field: p.name });
      if (p.modifier === 'exact') return eb(col('value'), '=', v);
      if (p.modifier === 'contains') return eb(col('value'), 'like', `%${v}%`);
      if (p.modifier) throw new SteadfastError('invalid', `Modifier :${p.modifier} is not supported on ${p.name}`, { field: `${p.name}:${p.modifier}`, hint: 'Use :exact or :contains' });
      // Prefix match as an index range: normalised values only hold [a-z0-9], so '~' sorts after them.
      return eb.and([eb(col('value'), '>=', v), eb(col('value'), '<', `${v}~`)]);
    }
    case 'token': {
      const bar = raw.indexOf('|');
      const system = bar >= 0 ? raw.slice(0, bar) : undefined;
      let code = bar >= 0 ? raw.slice(bar + 1) : raw;
      if (p.name === 'phone') code = normalisePhone(code);
      if (!code) throw new SteadfastError('invalid', `Search value "${raw}" for ${p.name} has no code`, { field: p.name, hint: 'Use code or system|code' });
      const byCode = eb(col('value'), '=', code);
      return system === undefined ? byCode : eb.and([byCode, eb(col('system'), '=', system)]);
    }
    case 'reference': {
      const target = raw.includes('/') ? raw : referenceTargets[p.name] ? `${referenceTargets[p.name]}/${raw}` : raw;
      return eb(col('value'), '=', target);
    }
    case 'date': {
      const prefix = datePrefixes.find((x) => raw.startsWith(x));
      const range = dateRange(prefix ? raw.slice(2) : raw);
      if (!range) {
        throw new SteadfastError('invalid', `"${raw}" is not a FHIR date for ${p.name}`, { field: p.name, hint: 'Use YYYY, YYYY-MM, YYYY-MM-DD or a dateTime, optionally prefixed with eq, ge, le, gt, lt' });
      }
      switch (prefix ?? 'eq') {
        case 'eq':
          return eb.and([eb(col('value'), '>=', range.start), eb(col('value'), '<=', range.end), eb(col('value_end'), '<=', range.end)]);
        case 'ne':
          return eb.or([eb(col('value'), '<', range.start), eb(col('value_end'), '>', range.end)]);
        case 'ge':
          return eb(col('value_end'), '>=', range.start);
        case 'gt':
          return eb(col('value_end'), '>', range.end);
        case 'le':
          return eb(col('value'), '<=', range.end);
        default:
          return eb(col('value'), '<', range.start);
      }
    }
  }
}

/**
 * Most selective first: an identifier names one resource, a patient reference a few hundred, a birth
 * date a few dozen patients in a million, a name prefix thousands; other tokens (status, gender, code)
 * can match most of a table, so they only ever filter.
 */
function driverRank(name: string, kind: string): number {
  if (name === 'identifier') return 0;
  if (kind === 'reference') return 1;
  if (kind === 'date') return 2;
  if (kind === 'string') return 3;
  return 4;
}

export function buildSearch(db: Kysely<Database>, practice: string, req: SearchRequest) {
  const special = req.params.filter((p) => p.name.startsWith('_'));
  const indexed = req.params.filter((p) => !p.name.startsWith('_'));
  const defs = searchParameters[req.resourceType as SupportedResourceType] ?? {};
  for (const p of indexed) if (!defs[p.name]) throw unknownParam(req.resourceType, p.name);

  const indexLookup = (eb: Kysely<Database>, p: SearchParamValue) =>
    eb
      .selectFrom('search_index as s')
      .select('s.rkey')
      .where('s.practice', '=', practice)
      .where('s.resource_type', '=', req.resourceType)
      .where('s.param', '=', p.name)
      .where((sb) => sb.or(p.values.map((v) => valueCondition(sb as unknown as SearchTable, req.resourceType, p, v))));

  // The query starts from the most selective parameter's index range, materialised as a distinct list
  // of ids, and only then seeks resources by primary key. CROSS JOIN fixes that order in SQLite (whose
  // planner would otherwise walk every resource in last-updated order); PostgreSQL plans it freely.
  const [driver, ...filters] = [...indexed].sort((a, b) => driverRank(a.name, defs[a.name]!.kind) - driverRank(b.name, defs[b.name]!.kind));
  let q = driver
    ? db
        .selectFrom(indexLookup(db, driver).distinct().as('d'))
        .crossJoin('resources as r')
        .whereRef('r.rkey', '=', 'd.rkey')
        .where('r.practice', '=', practice)
        .where('r.resource_type', '=', req.resourceType)
        .where('r.deleted', '=', 0)
    : db.selectFrom('resources as r').where('r.practice', '=', practice).where('r.resource_type', '=', req.resourceType).where('r.deleted', '=', 0);

  // Further parameters are checked per candidate through the (resource → index rows) index, which
  // is cheap because the driver has already narrowed the candidates.
  for (const p of filters) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('search_index as f')
          .select(sql.lit(1).as('one'))
          .whereRef('f.rkey', '=', 'r.rkey')
          .where('f.param', '=', p.name)
          .where((fb) => fb.or(p.values.map((v) => valueCondition(fb as unknown as SearchTable, req.resourceType, p, v, 'f')))),
      ),
    );
  }

  for (const p of special) {
    if (p.name === '_id') q = q.where('r.id', 'in', p.values);
    else if (p.name === '_lastUpdated') {
      q = q.where((eb) =>
        eb.or(
          p.values.map((raw) => {
            const prefix = datePrefixes.find((x) => raw.startsWith(x)) ?? 'eq';
            const range = dateRange(raw.startsWith(prefix) ? raw.slice(2) : raw);
            if (!range) throw new SteadfastError('invalid', `"${raw}" is not a FHIR date for _lastUpdated`, { field: '_lastUpdated' });
            if (prefix === 'ge' || prefix === 'gt') return eb('r.last_updated', '>=', range.start);
            if (prefix === 'le' || prefix === 'lt') return eb('r.last_updated', '<=', range.end);
            return eb.and([eb('r.last_updated', '>=', range.start), eb('r.last_updated', '<=', range.end)]);
          }),
        ),
      );
    } else throw unknownParam(req.resourceType, p.name);
  }
  return q;
}

/** The first index value of a parameter, as a sort key. */
export function sortKey(practice: string, resourceType: string, param: string) {
  const def = searchParameters[resourceType as SupportedResourceType]?.[param];
  if (!def && param !== '_lastUpdated' && param !== '_id') throw unknownParam(resourceType, param);
  return def;
}
