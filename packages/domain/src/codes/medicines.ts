/**
 * Common GP medicines, named as dm+d names them (the Virtual Medicinal Product), with the usual
 * adult dose text. dm+d codes are left out: none could be confirmed against a dm+d release here and
 * a wrong code on a prescription is worse than none, so prescriptions carry the name as text until a
 * dm+d import fills them in (`dmd` stays optional for that reason).
 */

export const DMD_SYSTEM = 'https://dmd.nhs.uk';

export interface Medicine {
  /** dm+d VMP name, e.g. "Amlodipine 5mg tablets". */
  name: string;
  /** dm+d VMP id when confirmed; none are yet. */
  dmd?: string;
  /** Usual adult dose as written on the prescription label. */
  dose: string;
  /** Usual quantity for 28 days (or the pack). */
  quantity: number;
  /** Unit of that quantity: tablet, capsule, inhaler, ... */
  quantityUnit: string;
  /** Therapeutic group, for grouping on screen. */
  group: string;
  /** Taken long term (repeat template) rather than a short acute course. */
  repeat: boolean;
}

const m = (name: string, dose: string, quantity: number, quantityUnit: string, group: string, repeat = true): Medicine => ({
  name,
  dose,
  quantity,
  quantityUnit,
  group,
  repeat,
});

export const medicines: readonly Medicine[] = [
  // Cardiovascular
  m('Amlodipine 5mg tablets', 'One tablet once a day', 28, 'tablet', 'Calcium-channel blocker'),
  m('Amlodipine 10mg tablets', 'One tablet once a day', 28, 'tablet', 'Calcium-channel blocker'),
  m('Ramipril 2.5mg capsules', 'One capsule once a day', 28, 'capsule', 'ACE inhibitor'),
  m('Ramipril 5mg capsules', 'One capsule once a day', 28, 'capsule', 'ACE inhibitor'),
  m('Lisinopril 10mg tablets', 'One tablet once a day', 28, 'tablet', 'ACE inhibitor'),
  m('Losartan 50mg tablets', 'One tablet once a day', 28, 'tablet', 'Angiotensin II receptor blocker'),
  m('Candesartan 8mg tablets', 'One tablet once a day', 28, 'tablet', 'Angiotensin II receptor blocker'),
  m('Indapamide 2.5mg tablets', 'One tablet each morning', 28, 'tablet', 'Thiazide-like diuretic'),
  m('Bisoprolol 2.5mg tablets', 'One tablet once a day', 28, 'tablet', 'Beta blocker'),
  m('Bisoprolol 5mg tablets', 'One tablet once a day', 28, 'tablet', 'Beta blocker'),
  m('Furosemide 40mg tablets', 'One tablet each morning', 28, 'tablet', 'Loop diuretic'),
  m('Atorvastatin 20mg tablets', 'One tablet once a day at night', 28, 'tablet', 'Statin'),
  m('Atorvastatin 80mg tablets', 'One tablet once a day at night', 28, 'tablet', 'Statin'),
  m('Simvastatin 40mg tablets', 'One tablet once a day at night', 28, 'tablet', 'Statin'),
  m('Aspirin 75mg dispersible tablets', 'One tablet once a day', 28, 'tablet', 'Antiplatelet'),
  m('Clopidogrel 75mg tablets', 'One tablet once a day', 28, 'tablet', 'Antiplatelet'),
  m('Apixaban 5mg tablets', 'One tablet twice a day', 56, 'tablet', 'Anticoagulant'),
  m('Edoxaban 60mg tablets', 'One tablet once a day', 28, 'tablet', 'Anticoagulant'),
  m('Glyceryl trinitrate 400micrograms/dose sublingual spray', 'One or two sprays under the tongue when required for chest pain', 1, 'spray', 'Nitrate'),
  // Diabetes
  m('Metformin 500mg tablets', 'One tablet twice a day with food', 56, 'tablet', 'Biguanide'),
  m('Metformin 500mg modified-release tablets', 'Two tablets once a day with the evening meal', 56, 'tablet', 'Biguanide'),
  m('Gliclazide 80mg tablets', 'One tablet twice a day with food', 56, 'tablet', 'Sulfonylurea'),
  m('Sitagliptin 100mg tablets', 'One tablet once a day', 28, 'tablet', 'DPP-4 inhibitor'),
  m('Dapagliflozin 10mg tablets', 'One tablet once a day', 28, 'tablet', 'SGLT2 inhibitor'),
  m('Empagliflozin 10mg tablets', 'One tablet once a day', 28, 'tablet', 'SGLT2 inhibitor'),
  // Respiratory
  m('Salbutamol 100micrograms/dose inhaler CFC free', 'One or two puffs when required', 1, 'inhaler', 'Short-acting beta2 agonist'),
  m('Beclometasone 100micrograms/dose inhaler CFC free', 'Two puffs twice a day', 1, 'inhaler', 'Inhaled corticosteroid'),
  m('Budesonide 200micrograms/dose / Formoterol 6micrograms/dose dry powder inhaler', 'One puff twice a day', 1, 'inhaler', 'Inhaled corticosteroid with LABA'),
  m('Tiotropium 2.5micrograms/dose solution for inhalation cartridge with device', 'Two puffs once a day', 1, 'inhaler', 'Long-acting muscarinic antagonist'),
  m('Montelukast 10mg tablets', 'One tablet once a day in the evening', 28, 'tablet', 'Leukotriene receptor antagonist'),
  // Thyroid, gut, pain, mental health, neurology
  m('Levothyroxine sodium 50microgram tablets', 'One tablet each morning', 28, 'tablet', 'Thyroid hormone'),
  m('Levothyroxine sodium 100microgram tablets', 'One tablet each morning', 28, 'tablet', 'Thyroid hormone'),
  m('Omeprazole 20mg gastro-resistant capsules', 'One capsule once a day', 28, 'capsule', 'Proton pump inhibitor'),
  m('Lansoprazole 30mg gastro-resistant capsules', 'One capsule once a day', 28, 'capsule', 'Proton pump inhibitor'),
  m('Paracetamol 500mg tablets', 'Two tablets up to four times a day when required; at least 4 hours apart', 100, 'tablet', 'Analgesic'),
  m('Co-codamol 30mg/500mg tablets', 'One or two tablets up to four times a day when required', 100, 'tablet', 'Analgesic'),
  m('Naproxen 250mg tablets', 'One tablet twice a day with food', 56, 'tablet', 'NSAID'),
  m('Sertraline 50mg tablets', 'One tablet once a day', 28, 'tablet', 'SSRI antidepressant'),
  m('Citalopram 20mg tablets', 'One tablet once a day', 28, 'tablet', 'SSRI antidepressant'),
  m('Mirtazapine 15mg tablets', 'One tablet at night', 28, 'tablet', 'Antidepressant'),
  m('Propranolol 10mg tablets', 'One tablet up to three times a day when required for anxiety', 84, 'tablet', 'Beta blocker'),
  m('Lamotrigine 100mg tablets', 'One tablet twice a day', 56, 'tablet', 'Antiepileptic'),
  m('Levetiracetam 500mg tablets', 'One tablet twice a day', 56, 'tablet', 'Antiepileptic'),
  m('Donepezil 5mg tablets', 'One tablet at night', 28, 'tablet', 'Acetylcholinesterase inhibitor'),
  m('Sumatriptan 50mg tablets', 'One tablet at onset of migraine; may repeat once after 2 hours', 6, 'tablet', 'Triptan'),
  m('Allopurinol 100mg tablets', 'One tablet once a day after food', 28, 'tablet', 'Xanthine oxidase inhibitor'),
  m('Alendronic acid 70mg tablets', 'One tablet once a week, on an empty stomach, standing or sitting upright', 4, 'tablet', 'Bisphosphonate'),
  m('Adcal-D3 chewable tablets', 'One tablet twice a day', 56, 'tablet', 'Calcium and vitamin D'),
  m('Tamsulosin 400microgram modified-release capsules', 'One capsule once a day after breakfast', 28, 'capsule', 'Alpha blocker'),
  m('Ferrous fumarate 210mg tablets', 'One tablet twice a day', 56, 'tablet', 'Iron'),
  m('Cetirizine 10mg tablets', 'One tablet once a day', 30, 'tablet', 'Antihistamine'),
  m('Emollient cream', 'Apply to dry skin as often as required', 500, 'gram', 'Emollient'),
  // Acute courses
  m('Amoxicillin 500mg capsules', 'One capsule three times a day for 5 days', 15, 'capsule', 'Penicillin antibiotic', false),
  m('Phenoxymethylpenicillin 250mg tablets', 'Two tablets four times a day for 5 days', 40, 'tablet', 'Penicillin antibiotic', false),
  m('Flucloxacillin 500mg capsules', 'One capsule four times a day for 5 days', 20, 'capsule', 'Penicillin antibiotic', false),
  m('Clarithromycin 500mg tablets', 'One tablet twice a day for 5 days', 10, 'tablet', 'Macrolide antibiotic', false),
  m('Doxycycline 100mg capsules', 'Two capsules on the first day, then one capsule once a day for 4 days', 6, 'capsule', 'Tetracycline antibiotic', false),
  m('Nitrofurantoin 100mg modified-release capsules', 'One capsule twice a day for 3 days', 6, 'capsule', 'Urinary antibacterial', false),
  m('Ibuprofen 400mg tablets', 'One tablet three times a day with food when required', 24, 'tablet', 'NSAID', false),
  m('Prednisolone 5mg tablets', 'Six tablets once a day in the morning for 5 days', 30, 'tablet', 'Corticosteroid', false),
];

/** Medicines whose name contains all the words typed (case-insensitive), best matches first. */
export function searchMedicines(text: string, limit = 20): Medicine[] {
  const terms = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (!terms.length) return [];
  return medicines
    .filter((med) => {
      const name = med.name.toLowerCase();
      return terms.every((term) => name.includes(term));
    })
    .sort((a, b) => Number(!a.name.toLowerCase().startsWith(terms[0]!)) - Number(!b.name.toLowerCase().startsWith(terms[0]!)) || a.name.localeCompare(b.name))
    .slice(0, limit);
}

/** The bundled medicine with exactly this name; throws when absent (a programming error). */
export function medicineByName(name: string): Medicine {
  const found = medicines.find((med) => med.name === name);
  if (!found) throw new Error(`Medicine "${name}" is not in the bundled list (packages/domain/src/codes/medicines.ts)`);
  return found;
}
