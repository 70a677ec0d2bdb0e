/** Refusing a form: every problem at once, as one OperationOutcome. */
import { SteadfastError } from '@steadfast/domain';
import type { FieldProblem } from '@steadfast/domain/region';

/** Every problem of a form as one error: the first names its field, the rest ride along (OperationOutcome issues). */
export function problemsError(problems: FieldProblem[]): SteadfastError {
  const [first, ...rest] = problems;
  const code = (p: FieldProblem) => (p.message.startsWith('Enter') || p.message.startsWith('Choose') || p.message.startsWith('Select') ? 'required' : 'invalid');
  return new SteadfastError(code(first!), first!.message, { field: first!.field, hint: first!.hint ?? 'Correct the field and send again; nothing was recorded' }, rest.map((p) => new SteadfastError(code(p), p.message, { field: p.field, hint: p.hint ?? 'Correct the field' })));
}

