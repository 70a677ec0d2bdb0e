/**
 * The safety checks in the browser: the node's rule set and dm+d subset (GET /api/medicines/rules, once
 * per page load) and checkPrescription of `@steadfast/domain/medicines` - the same code the node re-runs
 * on submit, so what the prescriber sees as they pick is what the node will say.
 */
import { useEffect, useState } from 'react';
import { checkPrescription, type MedicineAlert, type PrescriptionCandidate } from '@steadfast/domain/medicines';
import type { RulesResponse } from '@steadfast/domain/api/medicines';
import { api, type Loaded } from '../api.ts';
import type { AllergyIntolerance, MedicationRequest } from '../fhirTypes.ts';
import { localIsoDate } from '../format.ts';

let rules: Promise<RulesResponse> | undefined;

export function useRules(): Loaded<RulesResponse> {
  const [state, setState] = useState<Loaded<RulesResponse>>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    rules ??= api<RulesResponse>('/api/medicines/rules');
    rules.then(
      (value) => live && setState({ state: 'ok', value }),
      (err: Error) => {
        rules = undefined; // try again next time the form opens
        if (live) setState({ state: 'error', message: err.message });
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}

export function runChecks(knowledge: RulesResponse, candidate: PrescriptionCandidate, allergies: readonly AllergyIntolerance[], medications: readonly MedicationRequest[], exclude?: readonly string[]): MedicineAlert[] {
  return checkPrescription(candidate, { allergies, medications, today: localIsoDate(new Date()), ...(exclude ? { exclude } : {}) }, knowledge);
}
