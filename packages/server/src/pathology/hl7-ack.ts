/**
 * The HL7 v2 acknowledgement code, and MSH-10 read from text too broken to parse: all the MLLP
 * transport needs of HL7 to answer a message (it knows nothing of pathology).
 */
export type AckCode = 'AA' | 'AE' | 'AR';

/** MSH-10 from text too broken to parse, so the negative ACK can still name the message. */
export function guessMessageId(raw: string): string {
  const msh = /MSH(.)/.exec(raw);
  if (!msh) return '';
  const sep = msh[1]!;
  const line = raw.slice(msh.index).split(/[\r\n]/)[0] ?? '';
  return (line.split(sep)[9] ?? '').split(line.charAt(4) || '^')[0]!.slice(0, 199);
}
