export { generatePractice, demoPracticeIds, SYNTHETIC_SECURITY_LABEL, DEFAULT_DEMO_ODS_CODE, MAX_DEMO_PATIENTS, type GenerateOptions } from './generate.ts';
export { seedPractice, SEED_AUTHOR, type SeedOptions, type SeedProgress, type SeedResult } from './seed.ts';
export { DRAMA_MOBILE, dramaMobile } from './people.ts';
