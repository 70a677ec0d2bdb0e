/**
 * The shapes of the bundled dm+d subset, the rule data and the alerts of the prescribing checks.
 * Types only; the data is in dmd-subset.json and rules.json beside this file (both replaceable).
 */

/** An amount with its unit, e.g. 500 mg. */
export interface Amount {
  value: number;
  unit: string;
}

/** A usual dosage, offered as a one-click choice. */
export interface StandardDosage {
  /** As the label reads: "One capsule three times a day". */
  text: string;
  /** Units of the product's unitOfMeasure per administration (1 capsule, 5 ml). */
  dosePerAdministration: number;
  frequencyPerDay: number;
  /** Usual course in days, for acute items (5 for "5 days"). */
  days?: number;
}

/** One AMP (a supplier's actual product) of a VMP. */
export interface DmdAmp {
  amp: string;
  name: string;
  supplier: string;
}

/** One VMP (a generic product, as prescribed) of the bundled dm+d subset. */
export interface DmdProduct {
  /** dm+d VMP id (SNOMED CT concept id), as on the prescription. */
  vmp: string;
  /** dm+d VMP name: "Amoxicillin 500mg capsules". */
  name: string;
  /**
   * dm+d VTM name (the substance: "Amoxicillin"; "Codeine phosphate + Paracetamol" for a combination).
   * Allergy-by-substance and same-substance duplicates compare its words.
   */
  vtmName: string;
  /** dm+d VTM id, where one was found (a combination such as co-codamol may have none in the subset). */
  vtm?: string;
  /** dm+d dose form: "capsule", "tablet", "oral solution", "pressurised inhalation". */
  form: string;
  /** dm+d route: "oral", "inhalation", "cutaneous". */
  route: string;
  /** The amount of the active ingredient in ONE unitOfMeasure (a 250mg/5ml suspension: 50 mg per ml). */
  strength: Amount;
  /** How the strength is written on the pack: "500mg", "250mg/5ml", "100micrograms/dose". */
  strengthText: string;
  /** What doses and quantities are counted in: 'tablet', 'capsule', 'ml', 'dose', 'gram'. */
  unitOfMeasure: string;
  amps: DmdAmp[];
  standardDosages: StandardDosage[];
  /** Therapeutic classes used by the allergy, duplicate and interaction rules: 'penicillin', 'nsaid', 'ssri', ... */
  classes: string[];
  /** Usually prescribed as a repeat (long term) rather than an acute course. */
  usuallyRepeat: boolean;
  /** Earlier ids of this VMP (dm+d VPIDPREV): old records carrying them still match. */
  previousVmps?: string[];
  /** Where the VMP id was confirmed (a public document quoting the code with this name). */
  verifiedBy: string;
}

/** The bundled subset file (dmd-subset.json). */
export interface DmdSubset {
  /** Where the codes came from, and what the subset is not (not a full dm+d release). */
  source: string;
  /** The dm+d release or the date the codes were checked. */
  release: string;
  /** How to replace the file with a real dm+d extract. */
  replace: string;
  products: DmdProduct[];
}

export type AlertKind = 'allergy' | 'duplicate' | 'interaction' | 'dose';
/** `stop`: do not prescribe without a good reason; `warn`: check and confirm. Both need an override reason to submit. */
export type AlertSeverity = 'stop' | 'warn';

export interface MedicineAlert {
  /** Stable: `${kind}:${ruleId}:${vmp}`, so an override names exactly this alert and survives a re-check. */
  id: string;
  kind: AlertKind;
  severity: AlertSeverity;
  /** For the prescriber: what was found ("Recorded allergy to penicillin; Amoxicillin is a penicillin"). */
  message: string;
  advice?: string;
  /** Which rule set said so (MedicineRules.*.source). */
  source: string;
  /** The VMP being prescribed. */
  vmp: string;
  /** What it conflicts with, e.g. 'AllergyIntolerance/12' or 'MedicationRequest/34'. */
  with?: string;
}

/** What a rule matches a product by: one of its classes, its substance (lower-case VTM name word), or one VMP. */
export interface ProductMatcher {
  class?: string;
  substance?: string;
  vmp?: string;
}

export interface AllergyRule {
  id: string;
  /** What the recorded allergy or intolerance is coded or written as. */
  allergen: {
    /** SNOMED CT codes of AllergyIntolerance.code (e.g. 91936005 Allergy to penicillin). */
    codes: string[];
    /**
     * Classes of the allergen: the VTM, VMP and AMP ids of every subset product of these classes count
     * as codes of this allergen too (checks.ts derives them), so an allergy coded only as a member
     * substance ("Flucloxacillin", no display) matches the rule.
     */
    classes?: string[];
    /** Lower-case words or phrases matched whole against AllergyIntolerance.code.text / display: every
     *  member substance and brand of the class ("penicillin", "flucloxacillin", "co-amoxiclav", "augmentin"). */
    text: string[];
  };
  /** Products this allergen rules out. */
  products: ProductMatcher[];
  /** 'stop' for a true allergy to the class; 'warn' for cross-sensitivity (penicillin -> cephalosporin). */
  severity: AlertSeverity;
  advice: string;
}

export interface InteractionRule {
  id: string;
  a: ProductMatcher;
  b: ProductMatcher;
  severity: AlertSeverity;
  /** What goes wrong ("Increased risk of bleeding"). */
  effect: string;
  advice: string;
}

export interface DoseRule {
  /** The VMP the limits are for (limits are in its strength unit). */
  vmp: string;
  /** In the product's strength unit (mg, micrograms). */
  maxPerDose: number;
  maxPerDay: number;
  /** For weekly-dosed drugs (methotrexate): the most in any 7 days, in the same unit. */
  maxPerWeek?: number;
  /**
   * For drugs given at intervals (methotrexate: 7): at most one dose every this many days; dosing more
   * often (daily methotrexate) is a stop alert whatever the amount.
   */
  minDaysBetweenDoses?: number;
  unit: string;
  /** Whose dose it is: "adult". */
  population: string;
}

/** A set of rules of one kind, with where it came from. */
export interface RuleSet<T> {
  source: string;
  version: string;
  rules: T[];
}

/** rules.json: every rule set the checks use. Replaceable as a whole (see docs/medicines.md). */
export interface MedicineRules {
  allergy: RuleSet<AllergyRule>;
  interaction: RuleSet<InteractionRule>;
  dose: RuleSet<DoseRule>;
  /** Classes where two different products at once is usually duplicate therapy ('ssri', 'statin', ...). */
  duplicate: { source: string; version: string; classes: string[] };
}
