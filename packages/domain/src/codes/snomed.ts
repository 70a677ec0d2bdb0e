/**
 * A bundled subset of SNOMED CT (UK edition) for English general practice: the conditions, findings,
 * vital signs, laboratory results, allergies and procedures a GP record uses most. It lets coded
 * entry, the demo practice and the tests work with no terminology server and no network.
 *
 * Every id here is a real SNOMED CT concept id. Each was checked against published code lists
 * (QOF clusters, NHS pathology code lists, public FHIR examples) as well as the Verhoeff check
 * digit; a concept whose id could not be confirmed was left out rather than guessed.
 * Vital signs and results carry their usual UK unit as a UCUM code (for Quantity.code) and as the
 * text people read (for Quantity.unit).
 */
import { SNOMED_SYSTEM } from '../fhir/validate.ts';

export const conceptKinds = [
  'condition', // disorders recorded on the problem list
  'finding', // symptoms and statuses (smoking status)
  'observable', // vital signs and measurements taken in the surgery
  'lab', // laboratory results (UK pathology observables)
  'allergy', // allergy and "no known allergy" findings for AllergyIntolerance.code
  'procedure', // consultation types, reviews, vaccinations and test panels
] as const;

export type ConceptKind = (typeof conceptKinds)[number];

export interface Concept {
  code: string;
  display: string;
  kind: ConceptKind;
  /** Other words people search with ("high blood pressure", "HbA1c"). */
  synonyms?: readonly string[];
  /** UCUM code for Quantity.code, for observables and results. */
  ucum?: string;
  /** The unit as people read it in the UK, for Quantity.unit. */
  unit?: string;
}



const c = (code: string, display: string, kind: ConceptKind, extra: Omit<Concept, 'code' | 'display' | 'kind'> = {}): Concept => ({
  code,
  display,
  kind,
  ...extra,
});

export const concepts: readonly Concept[] = [
  // Long-term conditions (QOF registers and the common rest)
  c('38341003', 'Hypertension', 'condition', { synonyms: ['high blood pressure', 'HTN', 'hypertensive disorder'] }),
  c('59621000', 'Essential hypertension', 'condition', { synonyms: ['primary hypertension', 'high blood pressure'] }),
  c('73211009', 'Diabetes mellitus', 'condition', { synonyms: ['DM', 'diabetes'] }),
  c('44054006', 'Type 2 diabetes mellitus', 'condition', { synonyms: ['T2DM', 'type II diabetes', 'diabetes'] }),
  c('46635009', 'Type 1 diabetes mellitus', 'condition', { synonyms: ['T1DM', 'type I diabetes', 'diabetes'] }),
  c('195967001', 'Asthma', 'condition'),
  c('13645005', 'Chronic obstructive pulmonary disease', 'condition', { synonyms: ['COPD', 'chronic obstructive lung disease', 'emphysema'] }),
  c('49436004', 'Atrial fibrillation', 'condition', { synonyms: ['AF', 'AFib'] }),
  c('709044004', 'Chronic kidney disease', 'condition', { synonyms: ['CKD', 'chronic renal disease'] }),
  c('431855005', 'Chronic kidney disease stage 1', 'condition', { synonyms: ['CKD 1', 'CKD stage 1'] }),
  c('431856006', 'Chronic kidney disease stage 2', 'condition', { synonyms: ['CKD 2', 'CKD stage 2'] }),
  c('433144002', 'Chronic kidney disease stage 3', 'condition', { synonyms: ['CKD 3', 'CKD stage 3'] }),
  c('431857002', 'Chronic kidney disease stage 4', 'condition', { synonyms: ['CKD 4', 'CKD stage 4'] }),
  c('433146000', 'Chronic kidney disease stage 5', 'condition', { synonyms: ['CKD 5', 'CKD stage 5', 'end stage renal disease'] }),
  c('40930008', 'Hypothyroidism', 'condition', { synonyms: ['underactive thyroid'] }),
  c('35489007', 'Depressive disorder', 'condition', { synonyms: ['depression', 'low mood'] }),
  c('197480006', 'Anxiety disorder', 'condition', { synonyms: ['anxiety'] }),
  c('21897009', 'Generalised anxiety disorder', 'condition', { synonyms: ['GAD', 'generalized anxiety disorder', 'anxiety'] }),
  c('396275006', 'Osteoarthritis', 'condition', { synonyms: ['OA', 'arthritis', 'degenerative joint disease'] }),
  c('414545008', 'Ischaemic heart disease', 'condition', { synonyms: ['IHD', 'CHD', 'coronary heart disease', 'ischemic heart disease'] }),
  c('53741008', 'Coronary arteriosclerosis', 'condition', { synonyms: ['coronary artery disease', 'CAD', 'CHD'] }),
  c('22298006', 'Myocardial infarction', 'condition', { synonyms: ['MI', 'heart attack'] }),
  c('399211009', 'History of myocardial infarction', 'condition', { synonyms: ['previous MI', 'old MI', 'heart attack'] }),
  c('84114007', 'Heart failure', 'condition', { synonyms: ['HF', 'cardiac failure', 'CCF'] }),
  c('84757009', 'Epilepsy', 'condition', { synonyms: ['seizure disorder'] }),
  c('230690007', 'Stroke', 'condition', { synonyms: ['cerebrovascular accident', 'CVA'] }),
  c('266257000', 'Transient ischaemic attack', 'condition', { synonyms: ['TIA', 'mini stroke', 'transient ischemic attack'] }),
  c('52448006', 'Dementia', 'condition'),
  c('26929004', "Alzheimer's disease", 'condition', { synonyms: ['alzheimers', 'dementia'] }),
  c('55822004', 'Hyperlipidaemia', 'condition', { synonyms: ['hyperlipidemia', 'high cholesterol', 'dyslipidaemia'] }),
  c('13644009', 'Hypercholesterolaemia', 'condition', { synonyms: ['hypercholesterolemia', 'high cholesterol'] }),
  c('414916001', 'Obesity', 'condition'),
  c('90560007', 'Gout', 'condition'),
  c('69896004', 'Rheumatoid arthritis', 'condition', { synonyms: ['RA'] }),
  c('64859006', 'Osteoporosis', 'condition'),
  c('37796009', 'Migraine', 'condition'),
  c('235595009', 'Gastro-oesophageal reflux disease', 'condition', { synonyms: ['GORD', 'GERD', 'reflux', 'heartburn'] }),
  c('10743008', 'Irritable bowel syndrome', 'condition', { synonyms: ['IBS'] }),
  c('9014002', 'Psoriasis', 'condition'),
  c('24079001', 'Atopic dermatitis', 'condition', { synonyms: ['eczema', 'atopic eczema'] }),
  c('61582004', 'Allergic rhinitis', 'condition', { synonyms: ['hay fever'] }),
  c('58214004', 'Schizophrenia', 'condition', { synonyms: ['SMI', 'serious mental illness'] }),
  c('13746004', 'Bipolar disorder', 'condition', { synonyms: ['bipolar affective disorder', 'manic depression', 'SMI'] }),
  c('400047006', 'Peripheral vascular disease', 'condition', { synonyms: ['PVD', 'PAD', 'peripheral arterial disease'] }),
  c('49049000', "Parkinson's disease", 'condition', { synonyms: ['parkinsons'] }),
  c('24700007', 'Multiple sclerosis', 'condition', { synonyms: ['MS'] }),
  c('271737000', 'Anaemia', 'condition', { synonyms: ['anemia'] }),
  c('87522002', 'Iron deficiency anaemia', 'condition', { synonyms: ['IDA', 'iron deficiency anemia'] }),
  c('73430006', 'Sleep apnoea', 'condition', { synonyms: ['sleep apnea', 'OSA'] }),
  c('266569009', 'Benign prostatic hyperplasia', 'condition', { synonyms: ['BPH', 'enlarged prostate'] }),
  c('254837009', 'Malignant neoplasm of breast', 'condition', { synonyms: ['breast cancer'] }),
  c('126906006', 'Neoplasm of prostate', 'condition', { synonyms: ['prostate cancer'] }),
  c('193462001', 'Insomnia', 'condition'),
  // Acute problems seen in surgery
  c('54150009', 'Upper respiratory tract infection', 'condition', { synonyms: ['URTI', 'cold', 'upper respiratory infection'] }),
  c('68566005', 'Urinary tract infection', 'condition', { synonyms: ['UTI', 'cystitis', 'water infection', 'urine infection'] }),
  c('50417007', 'Lower respiratory tract infection', 'condition', { synonyms: ['chest infection', 'LRTI'] }),
  c('10509002', 'Acute bronchitis', 'condition', { synonyms: ['chest infection'] }),
  c('90176007', 'Tonsillitis', 'condition', { synonyms: ['sore throat'] }),
  c('65363002', 'Otitis media', 'condition', { synonyms: ['ear infection', 'OM'] }),
  c('128045006', 'Cellulitis', 'condition'),
  c('36971009', 'Sinusitis', 'condition'),
  c('233604007', 'Pneumonia', 'condition'),
  c('279039007', 'Low back pain', 'condition', { synonyms: ['LBP', 'back pain', 'lumbago'] }),
  c('44465007', 'Sprain of ankle', 'condition', { synonyms: ['ankle sprain'] }),
  // Findings: symptoms and statuses
  c('77176002', 'Smoker', 'finding', { synonyms: ['current smoker', 'smoking status'] }),
  c('8517006', 'Ex-smoker', 'finding', { synonyms: ['former smoker', 'smoking status'] }),
  c('266919005', 'Never smoked tobacco', 'finding', { synonyms: ['non-smoker', 'never smoker', 'smoking status'] }),
  c('25064002', 'Headache', 'finding'),
  c('49727002', 'Cough', 'finding'),
  c('386661006', 'Fever', 'finding', { synonyms: ['pyrexia', 'high temperature'] }),
  c('267036007', 'Dyspnoea', 'finding', { synonyms: ['dyspnea', 'shortness of breath', 'SOB', 'breathlessness'] }),
  c('29857009', 'Chest pain', 'finding'),
  c('21522001', 'Abdominal pain', 'finding', { synonyms: ['tummy pain', 'stomach ache'] }),
  c('84229001', 'Fatigue', 'finding', { synonyms: ['tiredness', 'TATT'] }),
  c('57676002', 'Joint pain', 'finding', { synonyms: ['arthralgia'] }),
  c('49650001', 'Dysuria', 'finding', { synonyms: ['painful urination'] }),
  c('34436003', 'Haematuria', 'finding', { synonyms: ['hematuria', 'blood in urine'] }),
  // Vital signs and measurements
  c('75367002', 'Blood pressure', 'observable', { synonyms: ['BP'], ucum: 'mm[Hg]', unit: 'mmHg' }),
  c('271649006', 'Systolic blood pressure', 'observable', { synonyms: ['SBP', 'BP systolic'], ucum: 'mm[Hg]', unit: 'mmHg' }),
  c('72313002', 'Systolic arterial pressure', 'observable', { synonyms: ['SBP', 'BP systolic'], ucum: 'mm[Hg]', unit: 'mmHg' }),
  c('271650006', 'Diastolic blood pressure', 'observable', { synonyms: ['DBP', 'BP diastolic'], ucum: 'mm[Hg]', unit: 'mmHg' }),
  c('364075005', 'Heart rate', 'observable', { synonyms: ['HR', 'pulse'], ucum: '/min', unit: 'beats/min' }),
  c('78564009', 'Pulse rate', 'observable', { synonyms: ['pulse'], ucum: '/min', unit: 'beats/min' }),
  c('86290005', 'Respiratory rate', 'observable', { synonyms: ['RR', 'breathing rate'], ucum: '/min', unit: 'breaths/min' }),
  c('27113001', 'Body weight', 'observable', { synonyms: ['weight', 'wt'], ucum: 'kg', unit: 'kg' }),
  c('50373000', 'Body height', 'observable', { synonyms: ['height', 'ht'], ucum: 'cm', unit: 'cm' }),
  c('60621009', 'Body mass index', 'observable', { synonyms: ['BMI'], ucum: 'kg/m2', unit: 'kg/m²' }),
  c('386725007', 'Body temperature', 'observable', { synonyms: ['temperature', 'temp'], ucum: 'Cel', unit: '°C' }),
  c('703421000', 'Temperature', 'observable', { synonyms: ['temp'], ucum: 'Cel', unit: '°C' }),
  c('276885007', 'Core body temperature', 'observable', { synonyms: ['temperature', 'temp'], ucum: 'Cel', unit: '°C' }),
  c('431314004', 'Peripheral oxygen saturation', 'observable', { synonyms: ['SpO2', 'oxygen saturation', 'sats', 'O2 sats'], ucum: '%', unit: '%' }),
  // Laboratory results (UK pathology observables)
  c('999791000000106', 'Haemoglobin A1c level - IFCC standardised', 'lab', { synonyms: ['HbA1c', 'glycated haemoglobin', 'hemoglobin A1c'], ucum: 'mmol/mol', unit: 'mmol/mol' }),
  c('1010671000000102', 'Plasma glucose level', 'lab', { synonyms: ['glucose', 'blood sugar'], ucum: 'mmol/L', unit: 'mmol/L' }),
  c('1005671000000105', 'Serum cholesterol level', 'lab', { synonyms: ['cholesterol', 'total cholesterol'], ucum: 'mmol/L', unit: 'mmol/L' }),
  c('1005681000000107', 'Serum HDL cholesterol level', 'lab', { synonyms: ['HDL', 'high density lipoprotein cholesterol'], ucum: 'mmol/L', unit: 'mmol/L' }),
  c('1022191000000100', 'Serum LDL cholesterol level', 'lab', { synonyms: ['LDL', 'low density lipoprotein cholesterol'], ucum: 'mmol/L', unit: 'mmol/L' }),
  c('1005691000000109', 'Serum triglycerides level', 'lab', { synonyms: ['triglycerides', 'TG'], ucum: 'mmol/L', unit: 'mmol/L' }),
  c('1000661000000107', 'Serum sodium level', 'lab', { synonyms: ['sodium', 'Na'], ucum: 'mmol/L', unit: 'mmol/L' }),
  c('1000651000000109', 'Serum potassium level', 'lab', { synonyms: ['potassium', 'K'], ucum: 'mmol/L', unit: 'mmol/L' }),
  c('1028131000000104', 'Serum urea level', 'lab', { synonyms: ['urea'], ucum: 'mmol/L', unit: 'mmol/L' }),
  c('1000731000000107', 'Serum creatinine level', 'lab', { synonyms: ['creatinine', 'creat'], ucum: 'umol/L', unit: 'µmol/L' }),
  c('1011481000000105', 'eGFR using creatinine (CKD-EPI) per 1.73 square metres', 'lab', { synonyms: ['eGFR', 'estimated glomerular filtration rate', 'kidney function'], ucum: 'mL/min/{1.73_m2}', unit: 'mL/min/1.73m²' }),
  c('1023491000000104', 'Urine albumin:creatinine ratio', 'lab', { synonyms: ['ACR', 'uACR', 'albumin creatinine ratio'], ucum: 'mg/mmol', unit: 'mg/mmol' }),
  c('1022431000000105', 'Haemoglobin estimation', 'lab', { synonyms: ['Hb', 'haemoglobin', 'hemoglobin'], ucum: 'g/L', unit: 'g/L' }),
  c('1022541000000102', 'Total white cell count', 'lab', { synonyms: ['WCC', 'WBC', 'white blood cells'], ucum: '10*9/L', unit: '10^9/L' }),
  c('1022551000000104', 'Neutrophil count', 'lab', { synonyms: ['neutrophils'], ucum: '10*9/L', unit: '10^9/L' }),
  c('1022651000000100', 'Platelet count', 'lab', { synonyms: ['platelets', 'PLT'], ucum: '10*9/L', unit: '10^9/L' }),
  c('1022491000000106', 'Mean corpuscular volume', 'lab', { synonyms: ['MCV'], ucum: 'fL', unit: 'fL' }),
  c('1022791000000101', 'Serum TSH level', 'lab', { synonyms: ['TSH', 'thyroid stimulating hormone'], ucum: 'm[IU]/L', unit: 'mU/L' }),
  c('1016971000000106', 'Serum free T4 level', 'lab', { synonyms: ['FT4', 'free thyroxine', 'T4'], ucum: 'pmol/L', unit: 'pmol/L' }),
  c('1018251000000107', 'Serum alanine aminotransferase level', 'lab', { synonyms: ['ALT', 'SGPT'], ucum: 'U/L', unit: 'U/L' }),
  c('1000621000000104', 'Serum alkaline phosphatase level', 'lab', { synonyms: ['ALP', 'alk phos'], ucum: 'U/L', unit: 'U/L' }),
  c('999691000000104', 'Serum bilirubin level', 'lab', { synonyms: ['bilirubin', 'bili'], ucum: 'umol/L', unit: 'µmol/L' }),
  c('1000821000000103', 'Serum albumin level', 'lab', { synonyms: ['albumin'], ucum: 'g/L', unit: 'g/L' }),
  c('1001371000000100', 'Serum C reactive protein level', 'lab', { synonyms: ['CRP', 'C-reactive protein'], ucum: 'mg/L', unit: 'mg/L' }),
  // Allergies
  c('91936005', 'Allergy to penicillin', 'allergy', { synonyms: ['penicillin allergy'] }),
  c('293586001', 'Allergy to aspirin', 'allergy', { synonyms: ['aspirin allergy'] }),
  c('91935009', 'Allergy to peanut', 'allergy', { synonyms: ['peanut allergy', 'nut allergy'] }),
  c('91930004', 'Allergy to eggs', 'allergy', { synonyms: ['egg allergy'] }),
  c('425525006', 'Allergy to dairy product', 'allergy', { synonyms: ['milk allergy', 'dairy allergy'] }),
  c('300913006', 'Shellfish allergy', 'allergy', { synonyms: ['seafood allergy'] }),
  c('300916003', 'Latex allergy', 'allergy'),
  c('418689008', 'Allergy to grass pollen', 'allergy', { synonyms: ['hay fever', 'pollen allergy'] }),
  c('232350006', 'House dust mite allergy', 'allergy', { synonyms: ['dust mite allergy', 'HDM'] }),
  c('232347008', 'Dander (animal) allergy', 'allergy', { synonyms: ['cat allergy', 'dog allergy', 'pet allergy'] }),
  c('419474003', 'Allergy to mould', 'allergy', { synonyms: ['mold allergy'] }),
  c('424213003', 'Allergy to bee venom', 'allergy', { synonyms: ['bee sting allergy'] }),
  c('716186003', 'No known allergy', 'allergy', { synonyms: ['NKA', 'no allergies'] }),
  c('409137002', 'No known drug allergy', 'allergy', { synonyms: ['NKDA', 'no drug allergies'] }),
  // Procedures: consultation types, reviews, vaccinations, test panels
  c('11429006', 'Consultation', 'procedure', { synonyms: ['face to face consultation', 'appointment'] }),
  c('185317003', 'Telephone encounter', 'procedure', { synonyms: ['telephone consultation', 'phone call'] }),
  c('439708006', 'Home visit', 'procedure'),
  c('185349003', 'Encounter for check up', 'procedure', { synonyms: ['check up', 'health check'] }),
  c('390906007', 'Follow-up encounter', 'procedure', { synonyms: ['follow up', 'review'] }),
  c('182836005', 'Review of medication', 'procedure', { synonyms: ['medication review', 'med review'] }),
  c('86198006', 'Influenza vaccination', 'procedure', { synonyms: ['flu jab', 'flu vaccine'] }),
  c('162673000', 'General examination of patient', 'procedure', { synonyms: ['examination'] }),
  c('171207006', 'Depression screening', 'procedure', { synonyms: ['PHQ-9'] }),
  c('26604007', 'Full blood count', 'procedure', { synonyms: ['FBC', 'complete blood count', 'CBC'] }),
  c('16254007', 'Lipid profile', 'procedure', { synonyms: ['lipids', 'lipid panel', 'cholesterol test'] }),
  c('43396009', 'Haemoglobin A1c measurement', 'procedure', { synonyms: ['HbA1c test', 'hemoglobin A1c measurement'] }),
  c('26958001', 'Liver function tests', 'procedure', { synonyms: ['LFT', 'LFTs', 'hepatic function panel'] }),
  c('1016851000000107', 'Thyroid function test', 'procedure', { synonyms: ['TFT', 'TFTs'] }),
];

const byId = new Map(concepts.map((concept) => [concept.code, concept]));

/** The bundled concept with this id, or undefined when it is not in the subset. */
export function conceptById(code: string): Concept | undefined {
  return byId.get(code);
}

/** A FHIR Coding for a bundled concept; throws for an id outside the subset (a programming error). */
export function snomedCoding(code: string): { system: string; code: string; display: string } {
  const concept = byId.get(code);
  if (!concept) throw new Error(`SNOMED CT concept ${code} is not in the bundled subset (packages/domain/src/codes/snomed.ts)`);
  return { system: SNOMED_SYSTEM, code: concept.code, display: concept.display };
}

/** A FHIR CodeableConcept (coding plus text) for a bundled concept. */
export function snomedConcept(code: string): { coding: { system: string; code: string; display: string }[]; text: string } {
  const coding = snomedCoding(code);
  return { coding: [coding], text: coding.display };
}

/** Lower case, accents and apostrophes dropped, "haem" spelt the British way once for matching. */
function normalise(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]/g, '')
    // "U&E", "U+E" and "U and E" are one thing when people type them; without this "u&e" split into
    // "u" and "e" and matched any two words starting so ("Follow-up encounter").
    .replace(/\s*[&+]\s*/g, ' and ');
}

function words(text: string): string[] {
  return normalise(text).split(/[^a-z0-9]+/).filter(Boolean);
}

interface Indexed {
  concept: Concept;
  display: string;
  /** Words of the display text, then of each synonym. */
  displayWords: string[];
  synonymTexts: string[];
  synonymWords: string[][];
}

const index: Indexed[] = concepts.map((concept) => ({
  concept,
  display: normalise(concept.display),
  displayWords: words(concept.display),
  synonymTexts: (concept.synonyms ?? []).map(normalise),
  synonymWords: (concept.synonyms ?? []).map(words),
}));

function everyTermPrefixesAWord(terms: string[], candidateWords: string[]): boolean {
  return terms.every((term) => candidateWords.some((word) => word.startsWith(term)));
}

/**
 * Score one concept against the query terms: higher is better, 0 means no match.
 * Whole-text prefix beats first-word prefix beats any-word prefix; the display text beats a synonym.
 */
function score(entry: Indexed, query: string, terms: string[]): number {
  let best = 0;
  if (entry.display === query) best = 1000;
  else if (entry.display.startsWith(query)) best = 800;
  else if (entry.displayWords[0]?.startsWith(terms[0]!) && everyTermPrefixesAWord(terms, entry.displayWords)) best = 600;
  else if (everyTermPrefixesAWord(terms, entry.displayWords)) best = 400;
  entry.synonymTexts.forEach((synonym, i) => {
    if (synonym === query) best = Math.max(best, 900);
    else if (synonym.startsWith(query)) best = Math.max(best, 700);
    else if (everyTermPrefixesAWord(terms, entry.synonymWords[i]!)) best = Math.max(best, 300);
  });
  return best;
}

export interface SearchConceptsOptions {
  /** Only concepts of this kind (or these kinds). */
  kind?: ConceptKind | readonly ConceptKind[];
  /** At most this many results (default 20). */
  limit?: number;
}

/**
 * Find bundled concepts for coded entry. Every word typed must be the start of a word in the
 * concept's text or one of its synonyms ("type 2 dia", "bp sys", "HbA1c"); a concept id typed in
 * full finds that concept. Best matches first, then shorter names, then alphabetical.
 */
export function searchConcepts(text: string, options: SearchConceptsOptions = {}): Concept[] {
  const limit = Math.max(0, Math.min(options.limit ?? 20, concepts.length));
  const kinds = options.kind === undefined ? undefined : new Set(typeof options.kind === 'string' ? [options.kind] : options.kind);
  const query = normalise(text).trim().replace(/\s+/g, ' ');
  const terms = words(text);
  if (!terms.length || limit === 0) return [];
  const allowed = (concept: Concept) => !kinds || kinds.has(concept.kind);
  if (/^\d+$/.test(query)) {
    const exact = byId.get(query);
    if (exact && allowed(exact)) return [exact];
  }
  const matches: { concept: Concept; score: number }[] = [];
  for (const entry of index) {
    if (!allowed(entry.concept)) continue;
    const s = score(entry, query, terms);
    if (s > 0) matches.push({ concept: entry.concept, score: s });
  }
  matches.sort(
    (a, b) => b.score - a.score || a.concept.display.length - b.concept.display.length || a.concept.display.localeCompare(b.concept.display),
  );
  return matches.slice(0, limit).map((m) => m.concept);
}
