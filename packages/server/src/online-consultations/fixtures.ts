/** Submissions for tests, the drill and the benchmark (synthetic people, NHS numbers from the 999 range). */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { SubmissionPayload } from '@steadfast/domain/api';
import { CURRENT_QUESTIONNAIRE } from '@steadfast/domain/online-consultations';
import type { OnlineConsultationOptions } from './options.ts';

export const ALWAYS_OPEN: OnlineConsultationOptions = {
  hours: ([0, 1, 2, 3, 4, 5, 6] as const).map((day) => ({ day, opens: '00:00', closes: '24:00' })),
};

export function sampleSubmission(over: Partial<SubmissionPayload> = {}): SubmissionPayload {
  return {
    submissionId: randomUUID(),
    questionnaireVersion: CURRENT_QUESTIONNAIRE.version,
    kind: 'medical',
    redFlags: Object.fromEntries(CURRENT_QUESTIONNAIRE.redFlags.filter((q) => q.kinds.includes(over.kind ?? 'medical')).map((q) => [q.linkId, false])),
    answers: { symptoms: 'A red itchy rash on my left arm', duration: 'days', want: 'Advice on what cream to use' },
    identity: { givenName: 'Ada', familyName: 'Testperson', birthDate: '1984-03-27', postcode: 'LS1 4AP', mobile: '07700 900123', email: 'ada@example.com', nhsNumber: '9990000018' },
    contactPreference: 'sms',
    ...over,
  };
}

/** A tiny real PNG (1x1). */
export const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

/** POST a submission from a given loopback address (127.0.0.n), so tests can be several clients. */
export function submitFrom(baseUrl: string, body: unknown, client = 1, practicePath: string): Promise<{ status: number; body: any }> {
  const data = JSON.stringify(body);
  const url = new URL(`${baseUrl}${practicePath}/submissions`);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: `127.0.0.${client}`, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}
