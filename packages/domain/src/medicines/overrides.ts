/**
 * Overriding an alert: every alert (stop or warn) needs the prescriber's reason to go ahead. The
 * browser and the server use the same rule, so what the form accepts the server accepts.
 */
import type { AlertOverride } from '../api/medicines.ts';
import type { MedicineAlert } from './types.ts';

/** The shortest reason accepted (after trimming): "ok" is not a reason. */
export const OVERRIDE_REASON_MIN = 5;
export const OVERRIDE_REASON_MAX = 500;

export function isValidOverrideReason(reason: unknown): reason is string {
  return typeof reason === 'string' && reason.trim().length >= OVERRIDE_REASON_MIN && reason.trim().length <= OVERRIDE_REASON_MAX;
}

/** Alerts with no valid override, and the overridden ones with their reasons. */
export function applyOverrides(alerts: readonly MedicineAlert[], overrides: readonly AlertOverride[] = []): {
  unresolved: MedicineAlert[];
  overridden: Array<MedicineAlert & { overrideReason: string }>;
} {
  const reasons = new Map<string, string>();
  for (const o of overrides) if (isValidOverrideReason(o.reason)) reasons.set(o.alertId, o.reason.trim());
  const unresolved: MedicineAlert[] = [];
  const overridden: Array<MedicineAlert & { overrideReason: string }> = [];
  for (const a of alerts) {
    const reason = reasons.get(a.id);
    if (reason) overridden.push({ ...a, overrideReason: reason });
    else unresolved.push(a);
  }
  return { unresolved, overridden };
}
