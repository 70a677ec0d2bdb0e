/** The Details tab of a record: demographics, address, contact details and preferences as held. */
import type { Patient } from '../fhirTypes.ts';
import { formatDate } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { formatNhsNumber } from '@steadfast/domain/nhs-number';
import { genderText, registrationOf, type Gender } from '@steadfast/domain/registration';

function Row({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="nhsuk-summary-list__row">
      <dt className="nhsuk-summary-list__key">{label}</dt>
      <dd className="nhsuk-summary-list__value" data-testid={testId}>
        {value || 'Not recorded'}
      </dd>
    </div>
  );
}

/** "07700 900123" and "0113 496 0000": grouped the way people read numbers aloud. */
function phoneText(n: string | undefined): string {
  if (!n) return '';
  if (n.startsWith('07') && n.length === 11) return `${n.slice(0, 5)} ${n.slice(5)}`;
  if (n.startsWith('01') && n.length === 11) return `${n.slice(0, 4)} ${n.slice(4, 7)} ${n.slice(7)}`;
  if (n.startsWith('02') && n.length === 11) return `${n.slice(0, 3)} ${n.slice(3, 7)} ${n.slice(7)}`;
  return n;
}

export function PatientDetails({ patient, notice }: { patient: Patient; notice?: string }) {
  const r = registrationOf(patient);
  const address = [r.addressLine1, r.addressLine2, r.town, r.postcode].filter(Boolean).join(', ');
  const contactBy = r.doNotContact ? 'Do not contact' : [r.smsConsent && r.mobile ? 'Text messages' : '', r.email ? 'Email' : ''].filter(Boolean).join(', ') || 'Letter only';
  return (
    <>
      {notice ? (
        <div className="nhsuk-inset-text" role="status" data-testid="details-notice">
          <p>{notice}</p>
        </div>
      ) : null}
      <h2>Personal details</h2>
      <dl className="nhsuk-summary-list" data-testid="patient-details">
        <Row label="Name" value={[r.title, r.givenName, r.familyName].filter(Boolean).join(' ')} />
        <Row label="Date of birth" value={formatDate(r.birthDate)} />
        <Row label="Gender" value={r.gender ? (genderText[r.gender as Gender] ?? r.gender) : ''} />
        <Row label="NHS number" value={formatNhsNumber(r.nhsNumber)} testId="details-nhs-number" />
        <Row label="Address" value={address} testId="details-address" />
      </dl>
      <h2>Contact details and preferences</h2>
      <dl className="nhsuk-summary-list" data-testid="contact-details">
        <Row label="Home or work phone" value={phoneText(r.phone)} testId="details-phone" />
        <Row label="Mobile" value={phoneText(r.mobile)} testId="details-mobile" />
        <Row label="Email" value={r.email ?? ''} testId="details-email" />
        <Row label="May be contacted by" value={contactBy} testId="details-contact-by" />
        <Row label="Reasonable adjustments" value={(r.reasonableAdjustments ?? []).join('; ') || 'None recorded'} />
      </dl>
      <a className="nhsuk-button nhsuk-button--secondary" href={`/patient/${patient.id}/details`} onClick={onLinkClick(`/patient/${patient.id}/details`)} data-testid="change-details">
        Change details
      </a>
    </>
  );
}
