import type { Condition, MedicationRequest } from '../fhirTypes.ts';
import { conceptText, formatDate } from '../format.ts';
import { abnormalFlag, abnormalText, consultationNote, isResult, newestFirst, observationDate, observationValue } from './clinical.ts';
import { Section } from './Section.tsx';
import type { PatientRecordData } from './usePatientRecord.ts';

const isActiveProblem = (c: Condition) =>
  (c.clinicalStatus?.coding ?? []).some((x) => x.code === 'active' || x.code === 'recurrence' || x.code === 'relapse') &&
  !(c.verificationStatus?.coding ?? []).some((x) => x.code === 'entered-in-error' || x.code === 'refuted');
const isCurrentMed = (m: MedicationRequest) => m.status === 'active' || m.status === 'on-hold';

export function Summary({ data }: { data: PatientRecordData }) {
  return (
    <div className="nhsuk-grid-row">
      <div className="nhsuk-grid-column-one-half">
        <h2 className="nhsuk-heading-m">Active problems</h2>
        <Section data={data.conditions} what="problems">
          {(list) => {
            const active = newestFirst(list.filter(isActiveProblem), (c) => c.onsetDateTime ?? c.recordedDate);
            return active.length ? (
              <ul data-testid="active-problems">
                {active.map((c) => (
                  <li key={c.id}>
                    {conceptText(c.code)} <span className="nhsuk-body-s">since {formatDate(c.onsetDateTime ?? c.recordedDate) || 'unknown'}</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p>No active problems recorded.</p>
            );
          }}
        </Section>
        <h2 className="nhsuk-heading-m">Current medication</h2>
        <Section data={data.medications} what="medication">
          {(list) => {
            const current = list.filter(isCurrentMed);
            return current.length ? (
              <ul>
                {current.map((m) => (
                  <li key={m.id}>
                    <strong>{conceptText(m.medicationCodeableConcept)}</strong>
                    {m.dosageInstruction?.[0]?.text ? ` — ${m.dosageInstruction[0].text}` : ''}
                    {m.status === 'on-hold' ? ' (on hold)' : ''}
                  </li>
                ))}
              </ul>
            ) : (
              <p>No current medication recorded.</p>
            );
          }}
        </Section>
        <h2 className="nhsuk-heading-m">Allergies</h2>
        <Section data={data.allergies} what="allergies">
          {(list) =>
            list.length ? (
              <ul>
                {list.map((a) => (
                  <li key={a.id}>
                    {conceptText(a.code)}
                    {a.reaction?.[0]?.manifestation?.[0] ? ` — ${conceptText(a.reaction[0].manifestation[0])}` : ''}
                    {a.criticality === 'high' ? <strong className="sf-abnormal"> (high risk)</strong> : null}
                  </li>
                ))}
              </ul>
            ) : (
              <p>No allergies recorded.</p>
            )
          }
        </Section>
      </div>
      <div className="nhsuk-grid-column-one-half">
        <h2 className="nhsuk-heading-m">Recent results</h2>
        <Section data={data.observations} what="results">
          {(list) => {
            const results = newestFirst(
              list.filter((o) => isResult(o) && o.status !== 'entered-in-error'),
              observationDate,
            ).slice(0, 10);
            return results.length ? (
              <table className="nhsuk-table">
                <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Recent results</caption>
                <thead className="nhsuk-table__head">
                  <tr className="nhsuk-table__row">
                    <th className="nhsuk-table__header" scope="col">Test</th>
                    <th className="nhsuk-table__header" scope="col">Result</th>
                    <th className="nhsuk-table__header" scope="col">Date</th>
                  </tr>
                </thead>
                <tbody className="nhsuk-table__body">
                  {results.map((o) => {
                    const flag = abnormalFlag(o);
                    return (
                      <tr className="nhsuk-table__row" key={o.id}>
                        <td className="nhsuk-table__cell">{conceptText(o.code)}</td>
                        <td className="nhsuk-table__cell">
                          {observationValue(o)} {flag ? <strong className="sf-abnormal" data-testid="abnormal">{abnormalText(flag)}</strong> : null}
                        </td>
                        <td className="nhsuk-table__cell">{formatDate(observationDate(o))}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            ) : (
              <p>No results recorded.</p>
            );
          }}
        </Section>
        <h2 className="nhsuk-heading-m">Recent consultations</h2>
        <Section data={data.encounters} what="consultations">
          {(list) => {
            const recent = newestFirst(list, (e) => e.period?.start).slice(0, 5);
            return recent.length ? (
              <ul className="nhsuk-list" data-testid="recent-consultations">
                {recent.map((e) => {
                  const note = consultationNote(e);
                  return (
                    <li key={e.id}>
                      <strong>{formatDate(e.period?.start)}</strong> {conceptText(e.type?.[0])} {e.participant?.[0]?.individual?.display ? `— ${e.participant[0].individual.display}` : ''}
                      {note.history ? <div className="nhsuk-body-s">{note.history}</div> : null}
                      {note.plan ? <div className="nhsuk-body-s">Plan: {note.plan}</div> : null}
                    </li>
                  );
                })}
              </ul>
            ) : (
              <p>No consultations recorded.</p>
            );
          }}
        </Section>
      </div>
    </div>
  );
}
