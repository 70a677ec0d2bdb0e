/**
 * Online consultations as pure rules, shared by the patient's form, the staff screens and the server:
 * the versioned questionnaire, the red-flag rules, the submission checks and the ids derived from the
 * device's submission id. Subpath `@steadfast/domain/online-consultations`.
 */
export * from './questionnaire.ts';
export * from './red-flags.ts';
export * from './validate.ts';
export * from './ids.ts';
