/**
 * Consultation drafts live in localStorage, keyed by user and patient, so a reload, a crash, a lock or
 * an expired session does not lose what the clinician typed, and one patient's draft can never appear
 * on another patient's screen.
 */
import type { ConsultationDraft } from './buildBundle.ts';

export interface DraftStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function draftKey(userId: string, patientId: string): string {
  return `steadfast.draft.consultation.${userId}.${patientId}`;
}

export function loadDraft(storage: DraftStorage, userId: string, patientId: string): ConsultationDraft | undefined {
  const raw = storage.getItem(draftKey(userId, patientId));
  if (!raw) return undefined;
  try {
    const d = JSON.parse(raw) as ConsultationDraft;
    // A draft is only ever restored for the patient and user it was written for.
    if (d.version !== 1 || d.patientId !== patientId || d.userId !== userId) return undefined;
    return d;
  } catch {
    return undefined;
  }
}

/** Returns false when the browser refused (storage full or disabled) so the screen can warn. */
export function saveDraft(storage: DraftStorage, d: ConsultationDraft): boolean {
  try {
    storage.setItem(draftKey(d.userId, d.patientId), JSON.stringify(d));
    return true;
  } catch {
    return false;
  }
}

export function clearDraft(storage: DraftStorage, userId: string, patientId: string): void {
  storage.removeItem(draftKey(userId, patientId));
}
