/** Practice diaries run on UK clock time; the conversions live in the domain (the audit search uses them too). */
export { londonDayStart, londonInstant } from '@steadfast/domain/london-time';
