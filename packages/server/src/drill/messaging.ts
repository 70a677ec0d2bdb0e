/**
 * The drill's messaging part (issue 10): the practices keep texting their patients while GOV.UK
 * Notify is cut off with the hub, and once the network is back every message queued in the outage is
 * delivered by each node's own outbox drainer, exactly once. The local Notify server runs in the
 * drill's process and counts notifications by `reference` (the outbox id), so a message sent twice
 * or never is seen, not inferred.
 */
import type { Patient } from '@medplum/fhirtypes';
import { DEFAULT_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from '../messaging/fake-notify/server.ts';
import type { StaffClient } from './workload.ts';

export interface DrillMessageVerdict {
  queued: number;
  delivered: number;
  missing: string[];
  duplicated: string[];
}

export class DrillMessaging {
  /** Every message a node accepted (201), by practice. */
  readonly queued: Array<{ practice: string; day: number; outboxId: string }> = [];
  private readonly patients = new Map<string, string>();

  private constructor(readonly notify: FakeNotify) {}

  static async start(): Promise<DrillMessaging> {
    return new DrillMessaging(await startFakeNotify({ deliveryDelayMs: 50, perMinute: 1_000_000, perDay: 1_000_000 }));
  }

  /** The environment that points a practice node's messaging at the local Notify server. */
  nodeEnv(): Record<string, string> {
    return { NOTIFY_BASE_URL: this.notify.url, NOTIFY_API_KEY: DEMO_TEST_KEY, NOTIFY_SMS_TEMPLATE: DEFAULT_TEMPLATES[0]!.id };
  }

  /** Day 0: one patient per practice who may be texted. */
  async setup(practice: string, reception: StaffClient, practiceNumber: number): Promise<void> {
    const { body } = await reception.call<Patient>('POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ given: ['Texty'], family: `Drill${practiceNumber}` }], birthDate: '1975-05-05' });
    await reception.call('PUT', `/api/messaging/patients/${body.id}/contact`, { mobile: `07700 900${String(100 + practiceNumber).slice(-3)}`, smsConsent: true });
    this.patients.set(practice, body.id!);
  }

  cut(): void {
    this.notify.cutOff();
  }

  restore(): void {
    this.notify.restore();
  }

  /** An outage day's texts from reception: each press of Send has its own key, sent twice as a double click would be. */
  async day(practice: string, reception: StaffClient, day: number, count = 3): Promise<void> {
    const patient = this.patients.get(practice);
    if (!patient) return;
    for (let i = 0; i < count; i++) {
      const json = { template: 'free-text', channel: 'sms', text: `Drill day ${day} message ${i + 1}: the surgery is open as usual`, key: `drill-${practice}-${day}-${i}` };
      const first = await reception.call<{ outboxId: string }>('POST', `/api/messaging/patients/${patient}/messages`, json);
      await reception.call('POST', `/api/messaging/patients/${patient}/messages`, json);
      this.queued.push({ practice, day, outboxId: first.body.outboxId });
    }
  }

  /** Wait (up to `timeoutMs`) until every queued message reached Notify; then count. */
  async verify(timeoutMs: number): Promise<DrillMessageVerdict> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.queued.some((q) => this.notify.byReference(q.outboxId).length === 0)) await new Promise((r) => setTimeout(r, 200));
    const missing = this.queued.filter((q) => this.notify.byReference(q.outboxId).length === 0).map((q) => `${q.practice} day ${q.day} ${q.outboxId}`);
    const duplicated = this.queued.filter((q) => this.notify.byReference(q.outboxId).length > 1).map((q) => `${q.practice} day ${q.day} ${q.outboxId} x${this.notify.byReference(q.outboxId).length}`);
    const ours = new Set(this.queued.map((q) => q.outboxId));
    const delivered = [...this.notify.notifications.values()].filter((n) => n.reference && ours.has(n.reference)).length;
    return { queued: this.queued.length, delivered, missing, duplicated };
  }

  async stop(): Promise<void> {
    await this.notify.stop();
  }
}
