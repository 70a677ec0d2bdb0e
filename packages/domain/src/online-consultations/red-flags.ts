/**
 * The red-flag rules: which answers stop the form with "call 999" or "call 111", and which requests
 * staff see first. One function for the form and the server: the server never trusts the form's own
 * evaluation, it runs this again on what arrived.
 */
import type { ConsultationKind, QuestionnaireDefinition, RedFlagAdvice, RedFlagQuestion } from '../api/online-consultations.ts';

export interface RedFlagEvaluation {
  /** The most urgent advice any "yes" calls for, or undefined when every answer was "no". */
  advice?: RedFlagAdvice;
  /** linkIds answered "yes", most urgent first. */
  raised: string[];
  /** Questions for this kind with no answer (true/false) at all. */
  unanswered: string[];
}

const RANK: Record<RedFlagAdvice, number> = { 'call-999': 0, 'call-111': 1 };

export function redFlagQuestionsFor(def: QuestionnaireDefinition, kind: ConsultationKind): RedFlagQuestion[] {
  return def.redFlags.filter((q) => q.kinds.includes(kind));
}

export function evaluateRedFlags(def: QuestionnaireDefinition, kind: ConsultationKind, answers: Record<string, unknown>): RedFlagEvaluation {
  const questions = redFlagQuestionsFor(def, kind);
  const unanswered = questions.filter((q) => typeof answers[q.linkId] !== 'boolean').map((q) => q.linkId);
  // An answer that is not a clear "no" counts as a "yes" for the advice: a red flag is never missed
  // because a value arrived as "true" or 1 instead of true.
  const raisedQuestions = questions
    .filter((q) => answers[q.linkId] !== false && answers[q.linkId] !== undefined)
    .sort((a, b) => RANK[a.advice] - RANK[b.advice]);
  const advice = raisedQuestions[0]?.advice;
  return { ...(advice ? { advice } : {}), raised: raisedQuestions.map((q) => q.linkId), unanswered };
}
