/** The node's medicines knowledge (subset + rules), read once per store from the options. */
import type { DmdSubset, MedicinesKnowledge } from '@steadfast/domain/medicines';
import type { AppDeps } from '../capability.ts';
import { medicinesKnowledgeOf } from './options.ts';

export type NodeMedicines = MedicinesKnowledge & { subset: DmdSubset };

const byStore = new WeakMap<object, NodeMedicines>();

export function nodeMedicines(deps: AppDeps): NodeMedicines {
  let k = byStore.get(deps.store);
  if (!k) {
    k = medicinesKnowledgeOf(deps.config.medicines);
    byStore.set(deps.store, k);
  }
  return k;
}
