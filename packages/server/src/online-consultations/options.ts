/** Online consultations' own options (`deps.config.onlineConsultations`). */
import type { OpeningPeriod } from '@steadfast/domain/api';

export interface OnlineConsultationOptions {
  practiceName?: string;
  /** Off: the form shows the closed message. Default on. */
  enabled?: boolean;
  /** Default core hours, Monday to Friday 08:00-18:30 (Europe/London). */
  hours?: OpeningPeriod[];
  /** Requests taken per day (Europe/London); absent for no limit. */
  dailyCapacity?: number;
  closedMessage?: string;
  /** Per client address: at most `max` submissions in `windowMs` (default 10 a minute). */
  rateLimit?: { max: number; windowMs: number };
  /** Urgent or red-flagged requests open longer than this raise the alarm figure (default 30 minutes). */
  urgentThresholdMinutes?: number;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    onlineConsultations?: OnlineConsultationOptions;
  }
}

export const CORE_HOURS: OpeningPeriod[] = ([1, 2, 3, 4, 5] as const).map((day) => ({ day, opens: '08:00', closes: '18:30' }));
