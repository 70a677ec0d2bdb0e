/** How record data is shown to people. Pure functions; format.test.ts pins them. */
import type { CodeableConcept, HumanName, Patient } from './fhirTypes.ts';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain/nhs-number';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** NHS style: "SMITH, Jane (Mrs)" so the surname cannot be misread. */
export function patientName(name: HumanName[] | undefined): string {
  const n = name?.find((x) => x.use === 'official') ?? name?.[0];
  if (!n) return 'Name not recorded';
  const family = (n.family ?? '').toUpperCase();
  const given = (n.given ?? []).join(' ');
  const prefix = n.prefix?.[0];
  return [family && given ? `${family}, ${given}` : family || given, prefix ? `(${prefix})` : ''].filter(Boolean).join(' ');
}

/** "Dr Ann Jones" for staff. */
export function personName(name: HumanName[] | undefined): string {
  const n = name?.[0];
  if (!n) return '';
  if (n.text) return n.text;
  return [n.prefix?.[0], ...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

export function nhsNumberOf(p: Patient): string | undefined {
  return p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
}

/** "1-Feb-1980" is the NHS way of writing dates so day and month cannot be swapped. */
export function formatDate(value: string | undefined): string {
  if (!value) return '';
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
  if (!m) return value;
  const [, y, mo, d] = m;
  if (!mo) return y!;
  if (!d) return `${MONTHS[Number(mo) - 1]}-${y}`;
  return `${Number(d)}-${MONTHS[Number(mo) - 1]}-${y}`;
}

export function formatDateTime(value: string | undefined): string {
  if (!value) return '';
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) return value;
  const hh = String(t.getHours()).padStart(2, '0');
  const mm = String(t.getMinutes()).padStart(2, '0');
  return `${formatDate(localIsoDate(t))} ${hh}:${mm}`;
}

export function formatTime(value: string | undefined): string {
  if (!value) return '';
  const t = new Date(value);
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
}

/** YYYY-MM-DD in local time. */
export function localIsoDate(t: Date): string {
  return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
}

/** Age as staff say it: "44y", or "8m" / "3w" / "5d" for babies. */
export function formatAge(birthDate: string | undefined, today: Date = new Date()): string {
  if (!birthDate) return '';
  const b = new Date(`${birthDate.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(b.getTime())) return '';
  const t = new Date(Date.UTC(today.getFullYear(), today.getMonth(), today.getDate()));
  let years = t.getUTCFullYear() - b.getUTCFullYear();
  if (t.getUTCMonth() < b.getUTCMonth() || (t.getUTCMonth() === b.getUTCMonth() && t.getUTCDate() < b.getUTCDate())) years--;
  if (years >= 2) return `${years}y`;
  const days = Math.floor((t.getTime() - b.getTime()) / 86_400_000);
  let months = (t.getUTCFullYear() - b.getUTCFullYear()) * 12 + t.getUTCMonth() - b.getUTCMonth();
  if (t.getUTCDate() < b.getUTCDate()) months--;
  if (months >= 1) return `${months}m`;
  if (days >= 14) return `${Math.floor(days / 7)}w`;
  return `${days}d`;
}

export function conceptText(c: CodeableConcept | undefined): string {
  if (!c) return '';
  return c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.[0]?.code ?? '';
}

export function genderText(g: string | undefined): string {
  return g ? g[0]!.toUpperCase() + g.slice(1) : 'Not recorded';
}

export function addressText(p: Patient): string {
  const a = p.address?.find((x) => x.use === 'home') ?? p.address?.[0];
  if (!a) return 'No address recorded';
  return [...(a.line ?? []), a.city, a.postalCode].filter(Boolean).join(', ');
}

/** A laboratory as HL7 names it (MSH-4, e.g. "RX1LAB^RX1"): its first component is the name people know. */
export function labName(lab: string | undefined): string {
  return (lab ?? '').split('^')[0]!.trim() || 'Unknown laboratory';
}
