/**
 * The drill's scripted workload: what a practice does in a (simulated) day, through the PUBLIC API only
 * (sign in, FHIR REST, transaction Bundles, /api/appointments, /api/pathology/results), seeded so the
 * same seed writes the same records.
 *
 * Every acknowledged write (a 2xx answer) goes into the ledger with the resource id and the version id
 * the node answered with (= the change-log entry id), so that loss can be proven at the hub afterwards.
 * Creates carry a drill identifier and are sent as conditional creates on it, so a retried request can
 * never make a second copy (and a second copy at the hub is a real duplicate, not a test artefact).
 */
import { appendFileSync } from 'node:fs';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { Random } from '@steadfast/domain/random';
import { DRILL_IDENTIFIER_SYSTEM } from '@steadfast/domain/systems';

const FHIR = 'application/fhir+json';

export interface LedgerEntry {
  practice: string;
  /** Which node of the practice acknowledged the write. */
  node: number;
  day: number;
  action: string;
  resourceType: string;
  id: string;
  /** The version the node acknowledged (its change-log entry id). */
  versionId: string;
  /** The drill identifier of a created record (its logical identity). */
  key?: string;
}

/** Acknowledged writes, in memory and appended to a JSON-lines file as they happen. */
export class Ledger {
  readonly entries: LedgerEntry[] = [];
  constructor(readonly file?: string) {}

  record(entry: LedgerEntry): void {
    this.entries.push(entry);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A staff member at one node: signs in, then calls the API with a bearer token. */
export class StaffClient {
  private token: string | undefined;

  constructor(
    /** The node's current URL (it changes when a node restarts on a new port). */
    private readonly baseUrl: () => string,
    readonly username: string,
    private readonly password: string,
  ) {}

  async login(): Promise<void> {
    const res = await fetch(`${this.baseUrl()}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.username, password: this.password, workstation: 'drill' }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new ApiError(res.status, `login as ${this.username} at ${this.baseUrl()}: HTTP ${res.status} ${await res.text()}`);
    this.token = ((await res.json()) as { token: string }).token;
  }

  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; etag: string | null }> {
    if (!this.token) await this.login();
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${this.baseUrl()}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': path.startsWith('/fhir') ? FHIR : 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
      if (res.status === 401 && attempt === 0) {
        await this.login();
        continue;
      }
      const text = await res.text();
      if (res.status < 200 || res.status > 299) throw new ApiError(res.status, `${method} ${path} as ${this.username}: HTTP ${res.status} ${text.slice(0, 500)}`);
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, etag: res.headers.get('etag') };
    }
  }
}

/** The node of a practice the workload writes through. */
export interface WorkloadNode {
  practice: string;
  index: number;
  url(): string;
}

export interface PracticeWorkloadOptions {
  practice: string;
  /** Number of the practice in the run (keeps NHS numbers apart between practices). */
  practiceNumber: number;
  nodes: WorkloadNode[];
  seed: number | string;
  ledger: Ledger;
  users: { clinician: string; receptionist: string; password: string };
  /** New patients per day (the rest of the day scales with it). */
  patientsPerDay?: number;
  /** First simulated day (YYYY-MM-DD); day d is this plus d days. */
  startDate?: string;
}

const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });

/** "Type/id/_history/vid" from a Bundle entry response. */
function parseLocation(location: string | undefined): { type: string; id: string; versionId: string } {
  const m = /^([A-Za-z]+)\/([^/]+)\/_history\/([^/]+)$/.exec(location ?? '');
  if (!m) throw new Error(`Bundle response location "${location}" is not Type/id/_history/vid`);
  return { type: m[1]!, id: m[2]!, versionId: m[3]! };
}

interface SharedRecord {
  resourceType: 'MedicationRequest' | 'AllergyIntolerance';
  id: string;
}

/**
 * One practice's scripted days. `setup()` runs while connected (practitioner, schedule, first patients,
 * and the medication and allergy that two nodes will later edit at the same time); `day(d)` is one
 * working day and never needs the hub.
 */
export class PracticeWorkload {
  private readonly random: Random;
  private readonly clinicians: StaffClient[];
  private readonly receptionists: StaffClient[];
  /** Patients, and the nodes that know them (a patient registered at one node during an outage is not at the other yet). */
  private readonly patients: Array<{ id: string; nhs: string; family: string; given: string; birthDate: string; knownAt: Set<number> }> = [];
  private scheduleId = '';
  private practitionerId = '';
  private counter = 0;
  private nhsCounter = 0;
  readonly shared: SharedRecord[] = [];
  /** Resources edited on two nodes where the second had not seen the first's edit (Type/id). */
  readonly forked = new Set<string>();
  /** Slots booked on both nodes, each not knowing of the other booking (Slot/id). */
  readonly doubleBooked = new Set<string>();
  /** Free slots known at both nodes (made while connected), one per day for a booking at each node. */
  private sharedSlots: string[] = [];

  constructor(readonly options: PracticeWorkloadOptions) {
    this.random = Random.for(options.seed, `workload:${options.practice}`);
    this.clinicians = options.nodes.map((n) => new StaffClient(n.url, options.users.clinician, options.users.password));
    this.receptionists = options.nodes.map((n) => new StaffClient(n.url, options.users.receptionist, options.users.password));
  }

  private get ledger(): Ledger {
    return this.options.ledger;
  }

  private dateOf(day: number): string {
    const start = Date.parse(`${this.options.startDate ?? '2026-11-30'}T00:00:00Z`);
    return new Date(start + day * 86_400_000).toISOString().slice(0, 10);
  }

  private key(kind: string): string {
    return `${this.options.seed}/${this.options.practice}/${kind}/${++this.counter}`;
  }

  private identifier(key: string) {
    return [{ system: DRILL_IDENTIFIER_SYSTEM, value: key }];
  }

  /** POST one resource as a conditional create on its drill identifier; ledger it. */
  private async create<T extends Resource>(client: StaffClient, node: number, day: number, action: string, resource: T, key: string): Promise<T & { id: string }> {
    const { body } = await client.call<T & { id: string; meta: { versionId: string } }>('POST', `/fhir/R4/${resource.resourceType}`, resource, {
      'if-none-exist': `identifier=${DRILL_IDENTIFIER_SYSTEM}|${key}`,
    });
    this.ledger.record({ practice: this.options.practice, node, day, action, resourceType: resource.resourceType, id: body.id, versionId: body.meta.versionId, key });
    return body;
  }

  private newPatient(day: number) {
    const n = this.options.practiceNumber * 20_000 + ++this.nhsCounter;
    const family = this.random.pick(['Ashworth', 'Begum', 'Clarke', 'Dimitrov', 'Evans', 'Fraser', 'Gill', 'Hughes', 'Iqbal', 'Jones', 'Kowalski', 'Lloyd', 'Mensah', 'Nowak', 'Okafor', 'Patel']);
    const given = this.random.pick(['Ada', 'Ben', 'Chloe', 'Dev', 'Ella', 'Femi', 'Grace', 'Hamza', 'Isla', 'Jack', 'Kira', 'Leo', 'Maya', 'Noah', 'Olu', 'Priya']);
    const birthDate = `${this.random.int(1935, 2020)}-${String(this.random.int(1, 12)).padStart(2, '0')}-${String(this.random.int(1, 28)).padStart(2, '0')}`;
    return { nhs: testNhsNumber(n), family, given, birthDate, day };
  }

  private async registerPatient(node: number, day: number): Promise<void> {
    const p = this.newPatient(day);
    const key = this.key('patient');
    const created = await this.create(this.receptionists[node]!, node, day, 'register patient', {
      resourceType: 'Patient',
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: p.nhs }, ...this.identifier(key)],
      name: [{ use: 'official', family: p.family, given: [p.given] }],
      gender: this.random.pick(['female', 'male'] as const),
      birthDate: p.birthDate,
      telecom: [{ system: 'phone', value: `07700 900${String(this.random.int(100, 999))}`, use: 'mobile' }],
    }, key);
    this.patients.push({ id: created.id, nhs: p.nhs, family: p.family, given: p.given, birthDate: p.birthDate, knownAt: new Set([node]) });
  }

  /** Connected start: practitioner and schedule, two patients, and records two nodes will both edit. */
  async setup(): Promise<void> {
    const day = 0;
    const clinician = this.clinicians[0]!;
    const practitioner = await this.create(clinician, 0, day, 'practitioner', {
      resourceType: 'Practitioner',
      identifier: this.identifier(this.key('practitioner')),
      name: [{ family: 'Drill', given: ['Dana'], prefix: ['Dr'] }],
    }, `${this.options.seed}/${this.options.practice}/practitioner/${this.counter}`);
    this.practitionerId = practitioner.id;
    const scheduleKey = this.key('schedule');
    const schedule = await this.create(clinician, 0, day, 'schedule', {
      resourceType: 'Schedule',
      identifier: this.identifier(scheduleKey),
      active: true,
      actor: [{ reference: `Practitioner/${practitioner.id}`, display: 'Dr Dana Drill' }],
    }, scheduleKey);
    this.scheduleId = schedule.id;
    for (let i = 0; i < 2; i++) await this.registerPatient(0, day);
    if (this.options.nodes.length < 2) return;
    const patient = this.patients[0]!;
    const medKey = this.key('medication');
    const med = await this.create(clinician, 0, day, 'prescribe', {
      resourceType: 'MedicationRequest',
      identifier: this.identifier(medKey),
      status: 'active',
      intent: 'order',
      subject: ref('Patient', patient.id),
      medicationCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '318475005', display: 'Amlodipine 5mg tablets' }] },
      dosageInstruction: [{ text: 'One tablet once a day' }],
    }, medKey);
    const allergyKey = this.key('allergy');
    const allergy = await this.create(clinician, 0, day, 'record allergy', {
      resourceType: 'AllergyIntolerance',
      identifier: this.identifier(allergyKey),
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }] },
      patient: ref('Patient', patient.id),
    }, allergyKey);
    this.shared.push({ resourceType: 'MedicationRequest', id: med.id }, { resourceType: 'AllergyIntolerance', id: allergy.id });
    // A session both reception desks can see (awaitSharedEverywhere waits for its slots too).
    const { body } = await clinician.call<{ slots: Array<{ id: string; meta: { versionId: string } }> }>('POST', '/api/appointments/sessions', {
      schedule: this.scheduleId,
      date: this.dateOf(0),
      start: '13:00',
      end: '17:00',
      minutes: 10,
    });
    for (const s of body.slots) this.ledger.record({ practice: this.options.practice, node: 0, day, action: 'open slots', resourceType: 'Slot', id: s.id, versionId: s.meta.versionId });
    this.sharedSlots = body.slots.map((s) => s.id);
  }

  /** Wait (polling, bounded) until every node of the practice holds the shared records. */
  async awaitSharedEverywhere(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // The shared records were written after the first patients, and entries arrive in log order.
    for (const p of this.patients) for (const [i] of this.options.nodes.entries()) p.knownAt.add(i);
    // Slots are written after the shared records, so they must be waited for too: a desk cannot
    // book a slot its node has not received yet.
    for (const s of [...this.shared, ...this.sharedSlots.map((id) => ({ resourceType: 'Slot', id }))]) {
      for (const [i] of this.options.nodes.entries()) {
        for (;;) {
          try {
            await this.clinicians[i]!.call<Resource>('GET', `/fhir/R4/${s.resourceType}/${s.id}`);
            break;
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 404) || Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
    }
  }

  /** One working day. Writes go mostly to the main node; a second node (if any) does some of them. */
  async day(day: number): Promise<void> {
    const date = this.dateOf(day);
    const perDay = this.options.patientsPerDay ?? 2;
    const nodeFor = () => (this.options.nodes.length > 1 && this.random.chance(0.3) ? 1 : 0);
    for (let i = 0; i < perDay; i++) await this.registerPatient(nodeFor(), day);
    for (let i = 0; i < perDay; i++) await this.consultation(nodeFor(), day, date);
    await this.appointments(nodeFor(), day, date);
    await this.result(nodeFor(), day, date);
    await this.document(nodeFor(), day, date);
    await this.message(nodeFor(), day, date);
    if (this.options.nodes.length > 1 && this.shared.length) {
      await this.concurrentEdit(day);
      await this.bookOnBoth(day);
    }
  }

  /**
   * Reception at both nodes books the same slot for different patients. The second booking only
   * succeeds if its node has not seen the first (an outage): then both are kept and reception must be
   * asked to rebook one.
   */
  private async bookOnBoth(day: number): Promise<void> {
    const slot = this.sharedSlots[(day - 1) % this.sharedSlots.length];
    if (!slot) return;
    let booked = 0;
    for (const node of [0, 1]) {
      try {
        const { body } = await this.receptionists[node]!.call<{ id: string; meta: { versionId: string } }>('POST', '/api/appointments/book', {
          slot,
          patient: this.patient(node).id,
          description: `Booked at node ${node}`,
        });
        this.ledger.record({ practice: this.options.practice, node, day, action: 'book shared slot', resourceType: 'Appointment', id: body.id, versionId: body.meta.versionId });
        booked++;
      } catch (err) {
        // The second desk already sees the slot taken: no double booking, as it should be.
        if (!(err instanceof ApiError && (err.status === 409 || err.status === 412) && node === 1)) throw err;
      }
    }
    if (booked === 2) this.doubleBooked.add(`Slot/${slot}`);
  }

  private patient(node: number) {
    return this.random.pick(this.patients.filter((p) => p.knownAt.has(node)));
  }

  /** A consultation as one transaction Bundle: the encounter, two observations and a problem. */
  private async consultation(node: number, day: number, date: string): Promise<void> {
    const p = this.patient(node);
    const keys = ['encounter', 'bp', 'pulse', 'problem'].map((k) => this.key(k));
    const at = `${date}T${String(this.random.int(8, 17)).padStart(2, '0')}:${String(this.random.int(0, 5) * 10).padStart(2, '0')}:00Z`;
    const entry = (fullUrl: string, resource: Resource, key: string): BundleEntry => ({
      fullUrl,
      resource,
      request: { method: 'POST', url: resource.resourceType, ifNoneExist: `identifier=${DRILL_IDENTIFIER_SYSTEM}|${key}` },
    });
    const enc = 'urn:uuid:' + crypto.randomUUID();
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        entry(enc, {
          resourceType: 'Encounter',
          identifier: this.identifier(keys[0]!),
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
          subject: ref('Patient', p.id),
          period: { start: at, end: at },
          participant: [{ individual: ref('Practitioner', this.practitionerId) }],
        }, keys[0]!),
        entry('urn:uuid:' + crypto.randomUUID(), {
          resourceType: 'Observation',
          identifier: this.identifier(keys[1]!),
          status: 'final',
          code: { coding: [{ system: 'http://snomed.info/sct', code: '75367002', display: 'Blood pressure' }] },
          subject: ref('Patient', p.id),
          encounter: { reference: enc },
          effectiveDateTime: at,
          component: [
            { code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }] }, valueQuantity: { value: this.random.int(105, 165), unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
            { code: { coding: [{ system: 'http://snomed.info/sct', code: '271650006', display: 'Diastolic blood pressure' }] }, valueQuantity: { value: this.random.int(60, 100), unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
          ],
        }, keys[1]!),
        entry('urn:uuid:' + crypto.randomUUID(), {
          resourceType: 'Observation',
          identifier: this.identifier(keys[2]!),
          status: 'final',
          code: { coding: [{ system: 'http://snomed.info/sct', code: '364075005', display: 'Heart rate' }] },
          subject: ref('Patient', p.id),
          encounter: { reference: enc },
          effectiveDateTime: at,
          valueQuantity: { value: this.random.int(52, 110), unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
        }, keys[2]!),
        entry('urn:uuid:' + crypto.randomUUID(), {
          resourceType: 'Condition',
          identifier: this.identifier(keys[3]!),
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          code: { coding: [this.random.pick([{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' }, { system: 'http://snomed.info/sct', code: '195967001', display: 'Asthma' }, { system: 'http://snomed.info/sct', code: '44054006', display: 'Type 2 diabetes mellitus' }])] },
          subject: ref('Patient', p.id),
          encounter: { reference: enc },
          recordedDate: date,
        }, keys[3]!),
      ],
    };
    const { body } = await this.clinicians[node]!.call<Bundle>('POST', '/fhir/R4', bundle);
    const response = body.entry ?? [];
    if (response.length !== keys.length) throw new Error(`transaction answered ${response.length} entries for ${keys.length}`);
    response.forEach((e, i) => {
      const loc = parseLocation(e.response?.location);
      this.ledger.record({ practice: this.options.practice, node, day, action: 'consultation', resourceType: loc.type, id: loc.id, versionId: loc.versionId, key: keys[i]! });
    });
  }

  /** A morning session of slots, and a booking in it. */
  private async appointments(node: number, day: number, date: string): Promise<void> {
    const hour = 9 + (day % 8);
    const { body } = await this.clinicians[node]!.call<{ slots: Array<{ id: string; meta: { versionId: string } }> }>('POST', '/api/appointments/sessions', {
      schedule: this.scheduleId,
      date,
      start: `${String(hour).padStart(2, '0')}:00`,
      end: `${String(hour).padStart(2, '0')}:30`,
      minutes: 10,
    });
    for (const s of body.slots) this.ledger.record({ practice: this.options.practice, node, day, action: 'open slots', resourceType: 'Slot', id: s.id, versionId: s.meta.versionId });
    const slot = this.random.pick(body.slots);
    const { body: appt } = await this.receptionists[node]!.call<{ id: string; meta: { versionId: string } }>('POST', '/api/appointments/book', {
      slot: slot.id,
      patient: this.patient(node).id,
      description: 'Review',
    });
    this.ledger.record({ practice: this.options.practice, node, day, action: 'book', resourceType: 'Appointment', id: appt.id, versionId: appt.meta.versionId });
  }

  /** A laboratory result for a registered patient, through the results API (matched on NHS number, name, DOB). */
  private async result(node: number, day: number, date: string): Promise<void> {
    const p = this.patient(node);
    const accession = `DRL${this.options.practiceNumber}${String(day).padStart(2, '0')}${String(++this.counter).padStart(5, '0')}`;
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: p.nhs }], name: [{ family: p.family, given: [p.given] }], birthDate: p.birthDate } },
        {
          fullUrl: 'urn:uuid:dr',
          resource: {
            resourceType: 'DiagnosticReport',
            identifier: [{ system: 'https://lab.example/accession', value: accession }],
            status: 'final',
            code: { coding: [{ system: 'http://snomed.info/sct', code: '1022441000000108', display: 'Serum potassium level' }] },
            subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: p.nhs } },
            effectiveDateTime: `${date}T08:00:00Z`,
            issued: `${date}T14:00:00Z`,
            performer: [{ display: 'Drill Pathology Lab' }],
            result: [{ reference: 'urn:uuid:k' }],
          },
        },
        {
          fullUrl: 'urn:uuid:k',
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [{ system: 'http://snomed.info/sct', code: '1000651000000109', display: 'Serum potassium level' }] },
            valueQuantity: { value: this.random.int(35, 55) / 10, unit: 'mmol/L' },
            referenceRange: [{ low: { value: 3.5 }, high: { value: 5.3 } }],
          },
        },
      ],
    };
    const { body } = await this.clinicians[node]!.call<{ reports: Array<{ reportId: string; outcome: string }> }>('POST', '/api/pathology/results', bundle);
    for (const r of body.reports) {
      if (r.outcome !== 'created' && r.outcome !== 'updated') continue;
      // The results API answers with the report id; its version is read back from the same node.
      const { body: report } = await this.clinicians[node]!.call<Resource>('GET', `/fhir/R4/DiagnosticReport/${r.reportId}`);
      this.ledger.record({ practice: this.options.practice, node, day, action: 'file result', resourceType: 'DiagnosticReport', id: r.reportId, versionId: report.meta?.versionId ?? '', key: accession });
    }
  }

  private async document(node: number, day: number, date: string): Promise<void> {
    const p = this.patient(node);
    const key = this.key('document');
    await this.create(this.clinicians[node]!, node, day, 'scan letter', {
      resourceType: 'DocumentReference',
      identifier: this.identifier(key),
      status: 'current',
      type: { coding: [{ system: 'http://snomed.info/sct', code: '371530004', display: 'Clinical consultation report' }] },
      subject: ref('Patient', p.id),
      date: `${date}T11:00:00Z`,
      content: [{ attachment: { contentType: 'text/plain', title: `Clinic letter ${date}`, data: Buffer.from(`Clinic letter for ${p.family}, ${date}. Seen and reviewed.`).toString('base64') } }],
    }, key);
  }

  private async message(node: number, day: number, date: string): Promise<void> {
    const p = this.patient(node);
    const key = this.key('message');
    await this.create(this.clinicians[node]!, node, day, 'message', {
      resourceType: 'Communication',
      identifier: this.identifier(key),
      status: 'completed',
      subject: ref('Patient', p.id),
      sent: `${date}T12:00:00Z`,
      payload: [{ contentString: `Your results from ${date} are normal; no action needed.` }],
    }, key);
  }

  /**
   * Both nodes change the same medication (or allergy) with different content, each from the version it
   * can see. When the second node has not seen the first node's change (the hub is out of reach), the
   * two changes are a fork, which must come back as a review Task for a clinician.
   */
  private async concurrentEdit(day: number): Promise<void> {
    const s = this.shared[day % this.shared.length]!;
    let first = '';
    for (const node of [0, 1]) {
      const client = this.clinicians[node]!;
      for (let attempt = 1; ; attempt++) {
        const { body: current } = await client.call<Resource & { id: string }>('GET', `/fhir/R4/${s.resourceType}/${s.id}`);
        const base = current.meta?.versionId ?? '';
        const changed: any = { ...current };
        delete changed.meta;
        if (s.resourceType === 'MedicationRequest') changed.dosageInstruction = [{ text: `Day ${day}: ${node === 0 ? 'one' : 'two'} tablet(s) once a day (node ${node})` }];
        else changed.note = [{ text: `Day ${day}: reaction reviewed at node ${node}` }];
        let versionId: string;
        try {
          const { body } = await client.call<Resource & { id: string }>('PUT', `/fhir/R4/${s.resourceType}/${s.id}`, changed, { 'if-match': `W/"${base}"` });
          versionId = body.meta?.versionId ?? '';
        } catch (err) {
          // Sync changed the record between our read and write (the network is up): read again, as a user would.
          if (err instanceof ApiError && err.status === 412 && attempt < 5) continue;
          throw err;
        }
        if (node === 1 && base !== first) this.forked.add(`${s.resourceType}/${s.id}`);
        if (node === 0) first = versionId;
        this.ledger.record({ practice: this.options.practice, node, day, action: `edit ${s.resourceType}`, resourceType: s.resourceType, id: s.id, versionId });
        break;
      }
    }
  }
}
