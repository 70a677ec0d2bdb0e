/**
 * The bundled dm+d subset (dmd-subset.json) and the bundled rules (rules.json), and how a product is
 * found from what a MedicationRequest carries. Pure; the JSON is bundled into the browser app too.
 */
import type { CodeableConcept, MedicationRequest } from '@medplum/fhirtypes';
import subsetJson from './dmd-subset.json' with { type: 'json' };
import rulesJson from './rules.json' with { type: 'json' };
import type { DmdProduct, DmdSubset, MedicineRules } from './types.ts';

export const bundledSubset: DmdSubset = subsetJson as DmdSubset;
export const bundledRules: MedicineRules = rulesJson as MedicineRules;

/** dm+d's own code system URI (UK Core), and SNOMED CT's: dm+d ids are SNOMED CT concept ids. */
export const DMD_SYSTEM = 'https://dmd.nhs.uk';
export const SNOMED_SCT_SYSTEM = 'http://snomed.info/sct';

/** What checkPrescription and the server need to know about medicines: the products and the rules. */
export interface MedicinesKnowledge {
  products: readonly DmdProduct[];
  rules: MedicineRules;
}

export const bundledKnowledge: MedicinesKnowledge = { products: bundledSubset.products, rules: bundledRules };

const indexes = new WeakMap<readonly DmdProduct[], Map<string, DmdProduct>>();

/** The product a VMP id, an earlier VMP id or one of its AMP ids names. */
export function productByCode(code: string, products: readonly DmdProduct[]): DmdProduct | undefined {
  let index = indexes.get(products);
  if (!index) {
    index = new Map();
    for (const p of products) {
      index.set(p.vmp, p);
      for (const prev of p.previousVmps ?? []) index.set(prev, p);
      for (const a of p.amps) index.set(a.amp, p);
    }
    indexes.set(products, index);
  }
  return index.get(code);
}

/** The product a coded medication names (dm+d or SNOMED coding), else the one whose name is its text. */
export function productOfConcept(concept: CodeableConcept | undefined, products: readonly DmdProduct[]): DmdProduct | undefined {
  for (const c of concept?.coding ?? []) {
    if (c.code && (c.system === DMD_SYSTEM || c.system === SNOMED_SCT_SYSTEM || c.system === undefined)) {
      const found = productByCode(c.code, products);
      if (found) return found;
    }
  }
  const text = (concept?.text ?? concept?.coding?.[0]?.display ?? '').trim().toLowerCase();
  return text ? products.find((p) => p.name.toLowerCase() === text) : undefined;
}

export function productOfRequest(m: MedicationRequest, products: readonly DmdProduct[]): DmdProduct | undefined {
  return productOfConcept(m.medicationCodeableConcept, products);
}

/** The lower-case words of a product's substance ("codeine", "phosphate", "paracetamol"). */
export function substanceWords(p: DmdProduct): string[] {
  return words(p.vtmName);
}

export function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0);
}
