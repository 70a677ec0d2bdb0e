export { generatePractice, demoPracticeIds, SYNTHETIC_SECURITY_LABEL, type GenerateOptions } from './generate.ts';
export { seedPractice, SEED_AUTHOR, type SeedOptions, type SeedProgress, type SeedResult } from './seed.ts';
export { DRAMA_MOBILE, dramaMobile } from './people.ts';
