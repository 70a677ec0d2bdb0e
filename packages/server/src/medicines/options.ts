/**
 * The medicines capability's own options (`deps.config.medicines`): where a replacement dm+d subset
 * or rule file is, when the practice has one. Without them the bundled files of
 * `@steadfast/domain/medicines` are used.
 */
import { readFileSync } from 'node:fs';
import { SteadfastError } from '@steadfast/domain';
import { bundledRules, bundledSubset, type DmdSubset, type MedicineRules, type MedicinesKnowledge } from '@steadfast/domain/medicines';
import type { CapabilityCli } from '../capability.ts';

export interface MedicinesOptions {
  /** A JSON file shaped like packages/domain/src/medicines/dmd-subset.json (DmdSubset). */
  dmdSubsetFile?: string;
  /** A JSON file shaped like packages/domain/src/medicines/rules.json (MedicineRules). */
  rulesFile?: string;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    medicines?: MedicinesOptions;
  }
}

function readJson(path: string, flag: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new SteadfastError('invalid', `${flag} ${path} could not be read as JSON: ${(err as Error).message}`, { field: flag, hint: 'Give the path of a JSON file shaped like the bundled one (docs/medicines.md)' });
  }
}

/** The subset, rules and where they came from for this node: the bundled files, or the replacements named in the options. */
export function medicinesKnowledgeOf(options: MedicinesOptions = {}): MedicinesKnowledge & { subset: DmdSubset } {
  const subset = options.dmdSubsetFile ? (readJson(options.dmdSubsetFile, '--dmd-subset') as DmdSubset) : bundledSubset;
  if (!Array.isArray(subset.products) || typeof subset.source !== 'string') {
    throw new SteadfastError('invalid', `--dmd-subset ${options.dmdSubsetFile} has no "products" list or "source"`, { field: '--dmd-subset', hint: 'Use the shape of packages/domain/src/medicines/dmd-subset.json' });
  }
  const rules = options.rulesFile ? (readJson(options.rulesFile, '--medicine-rules') as MedicineRules) : bundledRules;
  for (const key of ['allergy', 'interaction', 'dose', 'duplicate'] as const) {
    if (!rules[key] || typeof rules[key].source !== 'string') {
      throw new SteadfastError('invalid', `--medicine-rules ${options.rulesFile} has no "${key}" rule set with a "source"`, { field: '--medicine-rules', hint: 'Use the shape of packages/domain/src/medicines/rules.json' });
    }
  }
  return { subset, products: subset.products, rules };
}

export const medicinesCli: CapabilityCli = {
  flags: [
    { flags: '--dmd-subset <file>', description: 'A replacement dm+d subset (JSON shaped like the bundled dmd-subset.json); default the bundled subset' },
    { flags: '--medicine-rules <file>', description: 'Replacement prescribing-check rules (JSON shaped like the bundled rules.json); default the bundled rules' },
  ],
  configure(values) {
    const o: MedicinesOptions = {
      ...(typeof values.dmdSubset === 'string' ? { dmdSubsetFile: values.dmdSubset } : {}),
      ...(typeof values.medicineRules === 'string' ? { rulesFile: values.medicineRules } : {}),
    };
    if (Object.keys(o).length) medicinesKnowledgeOf(o); // a bad file fails at start, naming the flag
    return Object.keys(o).length ? { medicines: o } : {};
  },
};
