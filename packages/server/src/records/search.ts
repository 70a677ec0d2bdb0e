/** FHIR search query strings parsed into the store's SearchRequest, with errors that name the parameter. */
import '@steadfast/domain/fhir-definitions'; // validation reads the FHIR R4 definitions (from disk, on Node)
import { checkDateSearchValue, checkSearchValue, FHIR_ID, searchParameters, SteadfastError, type SupportedResourceType } from '@steadfast/domain';
import type { SearchParamValue, SearchRequest } from '@steadfast/store';

const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000;

/** Parameters about the result, not the match. */
const controlParams = new Set(['_count', '_offset', '_sort', '_total', '_format', '_pretty']);
/** Match parameters every type has. */
const commonParams = ['_id', '_lastUpdated'];

export type Query = Record<string, string | string[] | undefined>;

const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function wholeNumber(raw: string, field: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new SteadfastError('invalid', `${field}=${raw} is not a whole number from ${min} to ${max}`, { field, hint: `Use ${field}=${min === 0 ? 0 : DEFAULT_COUNT}` });
  }
  return n;
}

function validParamNames(type: SupportedResourceType): string[] {
  return [...commonParams, ...Object.keys(searchParameters[type] ?? {})];
}

export function parseSearch(type: SupportedResourceType, query: Query): SearchRequest {
  const valid = validParamNames(type);
  const request: SearchRequest = { resourceType: type, params: [], count: DEFAULT_COUNT, offset: 0 };
  for (const [key, raw] of Object.entries(query)) {
    const list = values(raw);
    if (controlParams.has(key)) {
      const last = list.at(-1) ?? '';
      if (key === '_count') request.count = wholeNumber(last, '_count', 1, MAX_COUNT);
      else if (key === '_offset') request.offset = wholeNumber(last, '_offset', 0, Number.MAX_SAFE_INTEGER);
      else if (key === '_total') {
        if (!['accurate', 'estimate', 'none'].includes(last)) throw new SteadfastError('invalid', `_total=${last} is not supported`, { field: '_total', hint: 'Use _total=accurate' });
        if (last !== 'none') request.total = true;
      } else if (key === '_sort') {
        request.sort = list
          .flatMap((v) => v.split(','))
          .filter(Boolean)
          .map((s) => {
            const descending = s.startsWith('-');
            const param = descending ? s.slice(1) : s;
            if (!valid.includes(param)) {
              throw new SteadfastError('invalid', `Cannot sort ${type} by "${param}"`, { field: '_sort', hint: `Sort by one of: ${valid.join(', ')} (prefix - for descending)` });
            }
            return { param, descending };
          });
      }
      continue;
    }
    const [name, modifier, ...rest] = key.split(':');
    if (!name || !valid.includes(name) || rest.length) {
      throw new SteadfastError('invalid', `Unknown search parameter "${key}" for ${type}`, {
        field: key,
        hint: `Valid parameters for ${type}: ${valid.join(', ')}; and _count, _offset, _sort, _total`,
      });
    }
    for (const v of list) {
      const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
      if (!parts.length) throw new SteadfastError('invalid', `Search parameter ${key} has no value`, { field: key, hint: `Give a value, e.g. ${key}=...` });
      // Each value is checked against its parameter's type, so a malformed one is a 400 naming the
      // parameter and the format rather than a search that silently matches nothing.
      for (const part of parts) {
        if (name === '_lastUpdated') {
          if (modifier) throw new SteadfastError('not-supported', `Modifier :${modifier} is not supported on _lastUpdated`, { field: key, hint: 'Search _lastUpdated=<prefix><date> without a modifier' });
          checkDateSearchValue(key, part);
        } else if (name === '_id') {
          if (modifier) throw new SteadfastError('not-supported', `Modifier :${modifier} is not supported on _id`, { field: key, hint: 'Search _id=<id> without a modifier' });
          if (!FHIR_ID.test(part)) throw new SteadfastError('invalid', `_id=${part} is not a FHIR id`, { field: key, hint: "Use 1-64 letters, digits, '-' or '.'" });
        } else checkSearchValue(type, name, modifier, part);
      }
      const param: SearchParamValue = { name, values: parts };
      if (modifier) param.modifier = modifier;
      request.params.push(param);
    }
  }
  return request;
}

/** The query string of the same search at another offset (for self/next links). */
export function pageQuery(query: Query, offset: number, count: number): string {
  const params = new URLSearchParams();
  for (const [key, raw] of Object.entries(query)) {
    if (key === '_offset' || key === '_count') continue;
    for (const v of values(raw)) params.append(key, v);
  }
  params.set('_count', String(count));
  params.set('_offset', String(offset));
  return params.toString();
}
