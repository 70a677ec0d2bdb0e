/**
 * Clinical content of the demo practice: long-term conditions with prevalence by age and sex (rough
 * English QOF figures), the medicines each is usually treated with, the blood tests that monitor it,
 * acute problems with consultation notes, and laboratory panels with reference ranges.
 * These drive synthetic records only; none of it is clinical guidance.
 */
import type { Random } from '@steadfast/domain/random';

export type Sex = 'male' | 'female';

export type PanelKey = 'hba1c' | 'lipids' | 'ue' | 'acr' | 'fbc' | 'tft' | 'lft';

export interface PatientState {
  age: number;
  sex: Sex;
  diabetic: boolean;
  onStatin: boolean;
  ckdStage: number; // 0 when no CKD
  hypothyroid: boolean;
  anaemic: boolean;
}

export interface ChronicCondition {
  key: string;
  /** SNOMED CT concept for the problem list (from the bundled subset). */
  code: string;
  prevalence(age: number, sex: Sex): number;
  /** Each slot: the chance of being on one of these, then the alternatives. */
  meds: Array<[number, string[]]>;
  labs: PanelKey[];
  reviewer: 'nurse' | 'gp';
  reviewName: string;
}

const byAge = (bands: Array<[number, number]>) => (age: number) => {
  for (const [upTo, p] of bands) if (age < upTo) return p;
  return bands[bands.length - 1]![1];
};

export const chronicConditions: ChronicCondition[] = [
  {
    key: 'hypertension', code: '38341003', reviewer: 'nurse', reviewName: 'hypertension', labs: ['ue'],
    prevalence: (age) => byAge([[18, 0], [30, 0.01], [40, 0.03], [50, 0.08], [60, 0.18], [70, 0.32], [80, 0.45], [200, 0.55]])(age),
    meds: [[1, ['Amlodipine 5mg tablets', 'Ramipril 5mg capsules', 'Losartan 50mg tablets']], [0.35, ['Indapamide 2.5mg tablets', 'Candesartan 8mg tablets']]],
  },
  {
    key: 'diabetes', code: '44054006', reviewer: 'nurse', reviewName: 'diabetes', labs: ['hba1c', 'lipids', 'ue', 'acr'],
    prevalence: (age) => byAge([[18, 0], [30, 0.003], [40, 0.015], [50, 0.04], [60, 0.08], [70, 0.13], [200, 0.16]])(age),
    meds: [
      [0.85, ['Metformin 500mg tablets', 'Metformin 500mg modified-release tablets']],
      [0.3, ['Gliclazide 80mg tablets', 'Sitagliptin 100mg tablets', 'Dapagliflozin 10mg tablets', 'Empagliflozin 10mg tablets']],
      [0.8, ['Atorvastatin 20mg tablets']],
    ],
  },
  {
    key: 'asthma', code: '195967001', reviewer: 'nurse', reviewName: 'asthma', labs: [],
    prevalence: (age) => (age < 5 ? 0 : age < 18 ? 0.08 : 0.065),
    meds: [
      [1, ['Salbutamol 100micrograms/dose inhaler CFC free']],
      [0.7, ['Beclometasone 100micrograms/dose inhaler CFC free', 'Budesonide 200micrograms/dose / Formoterol 6micrograms/dose dry powder inhaler']],
      [0.1, ['Montelukast 10mg tablets']],
    ],
  },
  {
    key: 'copd', code: '13645005', reviewer: 'nurse', reviewName: 'COPD', labs: [],
    prevalence: (age) => byAge([[40, 0], [50, 0.005], [60, 0.015], [70, 0.04], [200, 0.06]])(age),
    meds: [[1, ['Salbutamol 100micrograms/dose inhaler CFC free']], [0.7, ['Tiotropium 2.5micrograms/dose solution for inhalation cartridge with device']]],
  },
  {
    key: 'af', code: '49436004', reviewer: 'gp', reviewName: 'atrial fibrillation', labs: ['ue', 'fbc'],
    prevalence: (age) => byAge([[40, 0], [50, 0.002], [60, 0.008], [70, 0.03], [80, 0.07], [200, 0.12]])(age),
    meds: [[0.9, ['Apixaban 5mg tablets', 'Edoxaban 60mg tablets']], [0.7, ['Bisoprolol 2.5mg tablets', 'Bisoprolol 5mg tablets']]],
  },
  {
    key: 'chd', code: '414545008', reviewer: 'gp', reviewName: 'coronary heart disease', labs: ['lipids'],
    prevalence: (age, sex) => byAge([[40, 0], [50, 0.01], [60, 0.03], [70, 0.07], [80, 0.11], [200, 0.14]])(age) * (sex === 'male' ? 1.4 : 0.6),
    meds: [
      [0.9, ['Aspirin 75mg dispersible tablets', 'Clopidogrel 75mg tablets']],
      [0.9, ['Atorvastatin 80mg tablets']],
      [0.6, ['Bisoprolol 2.5mg tablets']],
      [0.5, ['Glyceryl trinitrate 400micrograms/dose sublingual spray']],
    ],
  },
  {
    key: 'heart-failure', code: '84114007', reviewer: 'gp', reviewName: 'heart failure', labs: ['ue'],
    prevalence: (age) => byAge([[50, 0], [60, 0.002], [70, 0.01], [80, 0.03], [200, 0.07]])(age),
    meds: [[0.9, ['Bisoprolol 2.5mg tablets']], [0.8, ['Ramipril 2.5mg capsules']], [0.7, ['Furosemide 40mg tablets']]],
  },
  {
    key: 'ckd', code: '709044004', reviewer: 'gp', reviewName: 'chronic kidney disease', labs: ['ue', 'acr', 'fbc'],
    prevalence: (age) => byAge([[18, 0], [50, 0.005], [60, 0.02], [70, 0.05], [80, 0.12], [200, 0.25]])(age),
    meds: [],
  },
  {
    key: 'hypothyroidism', code: '40930008', reviewer: 'gp', reviewName: 'thyroid', labs: ['tft'],
    prevalence: (age, sex) => (age < 18 ? 0 : sex === 'female' ? (age > 50 ? 0.075 : 0.04) : 0.012),
    meds: [[1, ['Levothyroxine sodium 50microgram tablets', 'Levothyroxine sodium 100microgram tablets']]],
  },
  {
    key: 'depression', code: '35489007', reviewer: 'gp', reviewName: 'mental health', labs: [],
    prevalence: (age, sex) => (age < 16 ? 0 : sex === 'female' ? 0.15 : 0.08),
    meds: [[0.6, ['Sertraline 50mg tablets', 'Citalopram 20mg tablets', 'Mirtazapine 15mg tablets']]],
  },
  {
    key: 'anxiety', code: '21897009', reviewer: 'gp', reviewName: 'mental health', labs: [],
    prevalence: (age) => (age < 16 ? 0 : 0.05),
    meds: [[0.3, ['Sertraline 50mg tablets', 'Propranolol 10mg tablets']]],
  },
  {
    key: 'osteoarthritis', code: '396275006', reviewer: 'gp', reviewName: 'osteoarthritis', labs: [],
    prevalence: (age) => byAge([[45, 0.003], [55, 0.05], [65, 0.12], [75, 0.2], [200, 0.3]])(age),
    meds: [[0.8, ['Paracetamol 500mg tablets']], [0.2, ['Naproxen 250mg tablets', 'Co-codamol 30mg/500mg tablets']]],
  },
  {
    key: 'epilepsy', code: '84757009', reviewer: 'gp', reviewName: 'epilepsy', labs: [],
    prevalence: (age) => (age < 2 ? 0 : 0.008),
    meds: [[1, ['Lamotrigine 100mg tablets', 'Levetiracetam 500mg tablets']]],
  },
  {
    key: 'gord', code: '235595009', reviewer: 'gp', reviewName: 'reflux', labs: [],
    prevalence: (age) => byAge([[18, 0], [40, 0.03], [60, 0.06], [200, 0.09]])(age),
    meds: [[0.9, ['Omeprazole 20mg gastro-resistant capsules', 'Lansoprazole 30mg gastro-resistant capsules']]],
  },
  {
    key: 'hypercholesterolaemia', code: '13644009', reviewer: 'nurse', reviewName: 'cholesterol', labs: ['lipids', 'lft'],
    prevalence: (age) => byAge([[40, 0], [200, 0.06]])(age),
    meds: [[0.85, ['Atorvastatin 20mg tablets', 'Simvastatin 40mg tablets']]],
  },
  {
    key: 'dementia', code: '52448006', reviewer: 'gp', reviewName: 'dementia', labs: ['fbc', 'tft'],
    prevalence: (age) => byAge([[65, 0.001], [75, 0.02], [85, 0.07], [200, 0.17]])(age),
    meds: [[0.4, ['Donepezil 5mg tablets']]],
  },
  {
    key: 'stroke', code: '230690007', reviewer: 'gp', reviewName: 'stroke', labs: ['lipids'],
    prevalence: (age) => byAge([[50, 0], [60, 0.005], [70, 0.02], [80, 0.04], [200, 0.07]])(age),
    meds: [[0.9, ['Clopidogrel 75mg tablets']], [0.85, ['Atorvastatin 80mg tablets']]],
  },
  {
    key: 'gout', code: '90560007', reviewer: 'gp', reviewName: 'gout', labs: ['ue'],
    prevalence: (age, sex) => (sex === 'male' ? (age >= 40 ? 0.04 : 0) : age >= 60 ? 0.015 : 0),
    meds: [[0.7, ['Allopurinol 100mg tablets']]],
  },
  {
    key: 'osteoporosis', code: '64859006', reviewer: 'gp', reviewName: 'osteoporosis', labs: [],
    prevalence: (age, sex) => (sex === 'female' ? (age >= 65 ? 0.08 : 0) : age >= 70 ? 0.02 : 0),
    meds: [[0.7, ['Alendronic acid 70mg tablets']], [0.7, ['Adcal-D3 chewable tablets']]],
  },
  {
    key: 'migraine', code: '37796009', reviewer: 'gp', reviewName: 'migraine', labs: [],
    prevalence: (age, sex) => (age < 12 || age > 65 ? 0 : sex === 'female' ? 0.05 : 0.02),
    meds: [[0.6, ['Sumatriptan 50mg tablets']]],
  },
  {
    key: 'eczema', code: '24079001', reviewer: 'gp', reviewName: 'eczema', labs: [],
    prevalence: (age) => (age < 16 ? 0.08 : 0.02),
    meds: [[0.9, ['Emollient cream']]],
  },
  {
    key: 'bph', code: '266569009', reviewer: 'gp', reviewName: 'prostate', labs: ['ue'],
    prevalence: (age, sex) => (sex === 'male' && age >= 50 ? 0.08 * (age / 60) : 0),
    meds: [[0.7, ['Tamsulosin 400microgram modified-release capsules']]],
  },
  {
    key: 'hay-fever', code: '61582004', reviewer: 'gp', reviewName: 'hay fever', labs: [],
    prevalence: (age) => (age < 5 ? 0 : 0.06),
    meds: [[0.6, ['Cetirizine 10mg tablets']]],
  },
];

export const CKD_STAGES: Array<[number, string, number]> = [
  // stage, SNOMED code, weight
  [2, '431856006', 10],
  [3, '433144002', 70],
  [4, '431857002', 15],
  [5, '433146000', 5],
];

export interface AcuteProblem {
  code: string;
  weight(age: number, sex: Sex): number;
  history: string;
  exam: string;
  plan: string;
  /** Chance of a prescription, and what (adults only). */
  meds?: [number, string];
  vitals?: boolean;
  telephone?: number;
}

export const PENICILLINS = ['Amoxicillin', 'Phenoxymethylpenicillin', 'Flucloxacillin', 'Co-amoxiclav'];
export const PENICILLIN_ALTERNATIVE = 'Clarithromycin 500mg tablets';

export const acuteProblems: AcuteProblem[] = [
  {
    code: '54150009', weight: () => 3, vitals: true, telephone: 0.5,
    history: 'Three days of sore throat, runny nose and cough. Eating and drinking normally. No shortness of breath.',
    exam: 'Alert and well. Throat mildly injected. Chest clear.',
    plan: 'Viral upper respiratory tract infection. Fluids and paracetamol. Advised to return if breathless or not improving after 7 days.',
  },
  {
    code: '90176007', weight: (age) => (age >= 16 && age <= 45 ? 1.5 : 0), vitals: true, meds: [0.8, 'Phenoxymethylpenicillin 250mg tablets'],
    history: 'Sore throat for four days with fever and painful swallowing. No cough.',
    exam: 'Tonsils enlarged with exudate. Tender anterior cervical lymph nodes. FeverPAIN score 4.',
    plan: 'Bacterial tonsillitis likely. Five-day antibiotic course. Paracetamol. Return if unable to swallow fluids.',
  },
  {
    code: '65363002', weight: (age) => (age <= 10 ? 4 : 0), vitals: true,
    history: 'Earache on the left for two days, fever overnight. Parent reports pulling at the ear. Drinking well.',
    exam: 'Left tympanic membrane red and bulging. Right normal. Chest clear.',
    plan: 'Acute otitis media. Paracetamol or ibuprofen for pain; most settle within 3 days without antibiotics. Return if not improving or unwell.',
  },
  {
    code: '68566005', weight: (age, sex) => (sex === 'female' && age >= 16 ? 3 : 0), telephone: 0.7, meds: [1, 'Nitrofurantoin 100mg modified-release capsules'],
    history: 'Burning on passing urine and frequency for two days. No loin pain, no fever. Not pregnant.',
    exam: 'Abdomen soft, no renal angle tenderness. Urine dipstick: nitrites and leucocytes positive.',
    plan: 'Lower urinary tract infection. Three-day antibiotic course and fluids. Return if fever, loin pain or not settling.',
  },
  {
    code: '279039007', weight: (age) => (age >= 18 ? 2 : 0), meds: [0.5, 'Ibuprofen 400mg tablets'],
    history: 'Lower back pain since lifting a week ago. No leg weakness, no saddle numbness, bladder and bowels normal.',
    exam: 'Paraspinal tenderness at L4/5. Straight leg raise negative both sides. Lower limb neurology normal.',
    plan: 'Mechanical low back pain. Simple analgesia and keep active. Physiotherapy self-referral details given. Red flags explained.',
  },
  {
    code: '10509002', weight: (age) => (age >= 16 ? 1.5 : 0), vitals: true, telephone: 0.3,
    history: 'Productive cough for ten days with mild wheeze. No chest pain, no haemoptysis.',
    exam: 'Scattered wheeze, no focal chest signs.',
    plan: 'Acute bronchitis, likely viral. Self-care. Return if breathless, or cough persists beyond 3 weeks.',
  },
  {
    code: '36971009', weight: (age) => (age >= 16 ? 1 : 0), telephone: 0.6,
    history: 'Facial pain and blocked nose for twelve days.',
    exam: 'Tender over maxillary sinuses. Afebrile.',
    plan: 'Sinusitis. Saline nasal rinses and analgesia; antibiotic not indicated at present. Return if worse after a week.',
  },
  {
    code: '44465007', weight: (age) => (age >= 10 && age <= 60 ? 0.7 : 0),
    history: 'Twisted right ankle playing football yesterday. Able to take four steps.',
    exam: 'Swelling over the lateral malleolus, tender over the anterior talofibular ligament. No bony tenderness (Ottawa rules negative).',
    plan: 'Ankle sprain. Rest, ice, compression and elevation; analgesia. Return if not improving in one week.',
  },
  {
    code: '128045006', weight: (age) => (age >= 30 ? 0.5 : 0), vitals: true, meds: [1, 'Flucloxacillin 500mg capsules'],
    history: 'Red, painful, swollen left lower leg for three days.',
    exam: 'Warm, well-demarcated erythema over the left shin. No crepitus. Calf soft.',
    plan: 'Cellulitis. Five-day antibiotic course; edge of redness marked. Review if spreading or feverish.',
  },
];

export interface Analyte {
  code: string;
  decimals: number;
  low?: number | ((s: PatientState) => number);
  high?: number | ((s: PatientState) => number);
  value(s: PatientState, rng: Random): number;
}

export interface Panel {
  key: PanelKey;
  /** SNOMED CT concept for the report, or undefined with only a name when no confirmed code is bundled. */
  code?: string;
  name: string;
  analytes: Analyte[];
}

function egfr(s: PatientState, rng: Random): number {
  const ranges: Record<number, [number, number]> = { 0: [70, 115], 2: [60, 89], 3: [30, 59], 4: [15, 29], 5: [6, 14] };
  const [lo, hi] = ranges[s.ckdStage] ?? ranges[0]!;
  return rng.int(lo, Math.max(lo, hi - Math.max(0, s.age - 60) / 4));
}

export const panels: Record<PanelKey, Panel> = {
  hba1c: {
    key: 'hba1c', code: '43396009', name: 'HbA1c',
    analytes: [{ code: '999791000000106', decimals: 0, low: 20, high: 41, value: (s, r) => (s.diabetic ? r.normal(58, 11, 40, 110) : r.normal(36, 3, 28, 47)) }],
  },
  lipids: {
    key: 'lipids', code: '16254007', name: 'Lipid profile',
    analytes: [
      { code: '1005671000000105', decimals: 1, high: 5, value: (s, r) => (s.onStatin ? r.normal(4.1, 0.7, 2.5, 7) : r.normal(5.1, 0.9, 3, 8.5)) },
      { code: '1005681000000107', decimals: 2, low: 1, value: (_s, r) => r.normal(1.4, 0.35, 0.6, 2.6) },
      { code: '1022191000000100', decimals: 1, high: 3, value: (s, r) => (s.onStatin ? r.normal(2.1, 0.6, 0.8, 4.5) : r.normal(3.1, 0.8, 1.2, 6)) },
      { code: '1005691000000109', decimals: 1, high: 1.7, value: (s, r) => r.normal(s.diabetic ? 2 : 1.4, 0.6, 0.4, 5) },
    ],
  },
  ue: {
    key: 'ue', name: 'Urea and electrolytes',
    analytes: [
      { code: '1000661000000107', decimals: 0, low: 133, high: 146, value: (_s, r) => r.normal(139, 2.5, 128, 149) },
      { code: '1000651000000109', decimals: 1, low: 3.5, high: 5.3, value: (s, r) => r.normal(s.ckdStage >= 4 ? 5 : 4.4, 0.4, 3.1, 6.2) },
      { code: '1028131000000104', decimals: 1, low: 2.5, high: 7.8, value: (s, r) => r.normal(5.2 + s.ckdStage * 1.6, 1.3, 2, 30) },
      {
        code: '1000731000000107', decimals: 0,
        low: (s) => (s.sex === 'male' ? 59 : 45),
        high: (s) => (s.sex === 'male' ? 104 : 84),
        // Filled in from the eGFR below so the two agree; see panelValues.
        value: () => 0,
      },
      { code: '1011481000000105', decimals: 0, low: 60, value: egfr },
    ],
  },
  acr: {
    key: 'acr', name: 'Urine albumin:creatinine ratio',
    analytes: [{ code: '1023491000000104', decimals: 1, high: 3, value: (s, r) => (s.ckdStage || s.diabetic ? r.normal(4, 4, 0.3, 40) : r.normal(1, 0.6, 0.1, 4)) }],
  },
  fbc: {
    key: 'fbc', code: '26604007', name: 'Full blood count',
    analytes: [
      {
        code: '1022431000000105', decimals: 0,
        low: (s) => (s.sex === 'male' ? 130 : 115),
        high: (s) => (s.sex === 'male' ? 170 : 155),
        value: (s, r) => (s.anaemic ? r.normal(104, 8, 80, 125) : s.sex === 'male' ? r.normal(148, 10, 118, 178) : r.normal(134, 9, 108, 162)) - s.ckdStage * 4,
      },
      { code: '1022541000000102', decimals: 1, low: 4, high: 11, value: (_s, r) => r.normal(6.8, 1.8, 2.8, 14) },
      { code: '1022651000000100', decimals: 0, low: 150, high: 400, value: (_s, r) => r.normal(260, 60, 110, 480) },
      { code: '1022491000000106', decimals: 0, low: 80, high: 100, value: (s, r) => (s.anaemic ? r.normal(74, 4, 62, 84) : r.normal(90, 4, 78, 103)) },
    ],
  },
  tft: {
    key: 'tft', code: '1016851000000107', name: 'Thyroid function test',
    analytes: [
      { code: '1022791000000101', decimals: 2, low: 0.27, high: 4.2, value: (s, r) => (s.hypothyroid ? r.normal(2.6, 2, 0.05, 18) : r.normal(1.8, 0.8, 0.3, 5.5)) },
      { code: '1016971000000106', decimals: 1, low: 12, high: 22, value: (s, r) => r.normal(s.hypothyroid ? 17 : 16, 2.5, 9, 26) },
    ],
  },
  lft: {
    key: 'lft', code: '26958001', name: 'Liver function tests',
    analytes: [
      { code: '1018251000000107', decimals: 0, high: 40, value: (_s, r) => r.normal(25, 11, 6, 95) },
      { code: '1000621000000104', decimals: 0, low: 30, high: 130, value: (_s, r) => r.normal(82, 25, 35, 200) },
      { code: '999691000000104', decimals: 0, high: 21, value: (_s, r) => r.normal(10, 4.5, 2, 32) },
      { code: '1000821000000103', decimals: 0, low: 35, high: 50, value: (_s, r) => r.normal(42, 3, 31, 50) },
    ],
  },
};

/** Creatinine that agrees with an eGFR (a rough inversion of CKD-EPI: good enough to look consistent). */
export function creatinineFor(egfrValue: number, s: PatientState): number {
  const base = s.sex === 'male' ? 80 : 62;
  const ageFactor = 1 + Math.max(0, s.age - 40) * 0.004;
  return Math.round((base * 90 * ageFactor) / Math.max(egfrValue, 5));
}

export const flagTexts: Array<{ text: string; category: 'admin' | 'behavioral' | 'safety' | 'contact' }> = [
  { text: 'Needs an interpreter: Polish', category: 'admin' },
  { text: 'Needs an interpreter: Urdu', category: 'admin' },
  { text: 'Hearing impaired: uses a hearing loop; prefers text messages', category: 'contact' },
  { text: 'Visually impaired: large print letters', category: 'contact' },
  { text: 'Carer for a family member', category: 'admin' },
  { text: 'Housebound: home visits', category: 'admin' },
  { text: 'Potentially violent: see with a colleague present', category: 'behavioral' },
  { text: 'Safeguarding concern: read the record before discussing with others', category: 'safety' },
  { text: 'Do not send text messages', category: 'contact' },
];
