export * from './sctid.ts';
export * from './snomed.ts';
export * from './medicines.ts';
export * from './labels.ts';
export * from './test-terms.ts';
