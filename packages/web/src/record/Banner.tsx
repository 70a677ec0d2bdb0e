import type { Loaded } from '../api.ts';
import type { AllergyIntolerance, Flag, Patient } from '../fhirTypes.ts';
import { addressText, conceptText, formatAge, formatDate, genderText, nhsNumberOf, patientName } from '../format.ts';
import { formatNhsNumber } from '@steadfast/domain/nhs-number';
import { allergyView } from './clinical.ts';

function AllergyBadges({ list }: { list: AllergyIntolerance[] }) {
  const { allergies, noKnown } = allergyView(list);
  if (allergies.length) {
    return (
      <>
        {allergies.map((a) => (
          <span className="sf-allergy" key={a.id} data-testid="banner-allergy">
            Allergy: {conceptText(a.code)}
            {a.reaction?.[0]?.manifestation?.[0] ? ` (${conceptText(a.reaction[0].manifestation[0])})` : ''}
          </span>
        ))}
        {noKnown.length ? (
          <span className="sf-alert-flag" data-testid="banner-allergy-conflict">
            Check: also recorded as &ldquo;{conceptText(noKnown[0]!.code)}&rdquo;
          </span>
        ) : null}
      </>
    );
  }
  if (noKnown.length) {
    return (
      <span className="sf-nka" data-testid="banner-no-known-allergy">
        {conceptText(noKnown[0]!.code)}
        {noKnown[0]!.recordedDate ? ` (recorded ${formatDate(noKnown[0]!.recordedDate)})` : ''}
      </span>
    );
  }
  return <span className="sf-nka" data-testid="banner-no-allergies">No allergies recorded</span>;
}

/**
 * Who this is, and what anyone must know before acting: sticky, so it never scrolls away. Allergies and
 * alerts wrap onto more lines rather than being cut short; when they could not be loaded the banner
 * says so in red instead of showing nothing (nothing would read as "no allergies").
 */
export function Banner({ patient, gp, allergies, flags }: { patient: Patient; gp: Loaded<string>; allergies: Loaded<AllergyIntolerance[]>; flags: Loaded<Flag[]> }) {
  const nhs = nhsNumberOf(patient);
  const alerts = flags.state === 'ok' ? flags.value.filter((f) => f.status === 'active') : [];
  return (
    <section className="sf-banner" aria-label="Patient banner" data-testid="patient-banner">
      <p className="sf-banner__name" data-testid="banner-name">
        {patientName(patient.name)}
        {patient.deceasedBoolean || patient.deceasedDateTime ? <strong className="nhsuk-tag nhsuk-tag--grey"> Deceased</strong> : null}
      </p>
      <ul className="sf-banner__facts">
        <li>
          NHS number: <strong data-testid="banner-nhs">{nhs ? formatNhsNumber(nhs) : 'not recorded'}</strong>
        </li>
        <li>
          Born: <strong>{formatDate(patient.birthDate) || 'not recorded'}</strong> ({formatAge(patient.birthDate)})
        </li>
        <li>
          Gender: <strong>{genderText(patient.gender)}</strong>
        </li>
        <li>
          GP: <strong>{gp.state === 'ok' ? gp.value : gp.state === 'loading' ? '…' : 'not known'}</strong>
        </li>
        <li>{addressText(patient)}</li>
      </ul>
      <div className="sf-banner__warnings" data-testid="banner-warnings">
        {allergies.state === 'ok' ? (
          <AllergyBadges list={allergies.value} />
        ) : allergies.state === 'loading' ? (
          <span className="sf-nka">Loading allergies…</span>
        ) : (
          <span className="sf-allergy" role="alert">
            Allergies could not be loaded: check before prescribing
          </span>
        )}
        {flags.state === 'error' ? (
          <span className="sf-alert-flag" role="alert">
            Alerts could not be loaded
          </span>
        ) : null}
        {alerts.map((f) => (
          <span className="sf-alert-flag" key={f.id} data-testid="banner-alert">
            Alert: {conceptText(f.code)}
          </span>
        ))}
      </div>
    </section>
  );
}
