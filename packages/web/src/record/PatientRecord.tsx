import { useState } from 'react';
import { onLinkClick } from '../router.ts';
import { useSession, seesClinical } from '../session.ts';
import { Banner } from './Banner.tsx';
import { Section } from './Section.tsx';
import { Summary } from './Summary.tsx';
import { Timeline } from './Timeline.tsx';
import { Documents } from './Documents.tsx';
import { PatientAppointments } from './PatientAppointments.tsx';
import { usePatientRecord } from './usePatientRecord.ts';
import { PatientDetails } from '../reception/PatientDetails.tsx';
import { ShareRecordPanel } from '../sharing/ShareRecordPanel.tsx';
import { PatientMessages } from '../messaging/PatientMessages.tsx';
import { Medications } from '../medicines/Medications.tsx';
import { EmergencyAccessOffer, EmergencyBanner, useEmergencyGrant } from '../breakglass/EmergencyAccess.tsx';

const tabs = ['summary', 'medications', 'timeline', 'documents', 'appointments', 'messages', 'details', 'sharing'] as const;
type Tab = (typeof tabs)[number];
const tabLabel: Record<Tab, string> = { summary: 'Summary', medications: 'Medications', timeline: 'Timeline', documents: 'Documents', appointments: 'Appointments', messages: 'Messages', details: 'Details', sharing: 'Sharing' };

/** The tab named in the address (`?tab=details` after registering or saving details), else Summary. */
function tabFromAddress(): Tab {
  const t = new URLSearchParams(location.search).get('tab');
  return (tabs as readonly string[]).includes(t ?? '') ? (t as Tab) : 'summary';
}

function detailsNotice(): string | undefined {
  const q = new URLSearchParams(location.search);
  if (q.get('registered')) return 'Patient registered. Check the details below with the patient.';
  if (q.get('saved')) return 'Details saved.';
  return undefined;
}

export function PatientRecord({ patientId }: { patientId: string }) {
  const { user } = useSession();
  const { grant, setGrant } = useEmergencyGrant(patientId);
  const [reloadKey, setReloadKey] = useState(0);
  const data = usePatientRecord(patientId, user.role, reloadKey, Boolean(grant));
  const [tab, setTab] = useState<Tab>(tabFromAddress);
  const [notice] = useState(detailsNotice);
  // Writing (consultations, requests, sharing) stays with the role; emergency access is read-only.
  const clinical = seesClinical(user.role);
  // Messaging the patient is for reception and clinicians (the roles the messaging API serves).
  const messages = user.role === 'receptionist' || user.role === 'clinician';
  const granted = (g: NonNullable<typeof grant>) => {
    setGrant(g);
    setReloadKey((k) => k + 1);
  };

  if (data.patient.state === 'forbidden' && grant === null) {
    return <EmergencyAccessOffer patientId={patientId} what="This record is marked sensitive, or is not available to your role." onGranted={granted} />;
  }
  return (
    <Section data={data.patient} what="the patient record">
      {(patient) => (
        <>
          {grant ? <EmergencyBanner grant={grant} /> : null}
          <Banner patient={patient} gp={data.gp} allergies={data.allergies} flags={data.flags} />
          {!clinical && grant === null ? (
            <EmergencyAccessOffer patientId={patientId} what="Problems, medication, results and consultations are not available to your role." onGranted={granted} />
          ) : null}
          <h1 className="nhsuk-u-visually-hidden">Patient record</h1>
          {clinical ? (
            <p>
              <a className="nhsuk-button nhsuk-u-margin-bottom-3" href={`/patient/${patientId}/consultation`} onClick={onLinkClick(`/patient/${patientId}/consultation`)} data-testid="new-consultation">
                New consultation
              </a>{' '}
              <a
                className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-3"
                href={`/patient/${patientId}/pathology-request`}
                onClick={onLinkClick(`/patient/${patientId}/pathology-request`)}
                data-testid="request-tests"
              >
                Request tests
              </a>
            </p>
          ) : null}
          <div className="nhsuk-tabs">
            <ul className="nhsuk-tabs__list" role="tablist">
              {tabs.filter((t) => (t !== 'sharing' || clinical) && (t !== 'medications' || clinical || grant !== null) && (t !== 'messages' || messages)).map((t) => (
                <li className={`nhsuk-tabs__list-item${tab === t ? ' nhsuk-tabs__list-item--selected' : ''}`} key={t} role="presentation">
                  <a
                    className="nhsuk-tabs__tab"
                    href={`#${t}`}
                    role="tab"
                    id={`tab-${t}`}
                    aria-selected={tab === t}
                    aria-controls={`panel-${t}`}
                    onClick={(e) => {
                      e.preventDefault();
                      setTab(t);
                    }}
                  >
                    {tabLabel[t]}
                  </a>
                </li>
              ))}
            </ul>
            <div className="nhsuk-tabs__panel" id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`}>
              {tab === 'summary' ? <Summary data={data} /> : null}
              {tab === 'medications' ? <Medications data={data} patient={patient} prescriber={clinical} onChanged={() => setReloadKey((k) => k + 1)} /> : null}
              {tab === 'timeline' ? <Timeline data={data} /> : null}
              {tab === 'documents' ? <Documents data={data} /> : null}
              {tab === 'appointments' ? <PatientAppointments data={data} patientId={patientId} /> : null}
              {tab === 'messages' && messages ? <PatientMessages patient={patient} /> : null}
              {tab === 'details' ? <PatientDetails patient={patient} {...(notice ? { notice } : {})} /> : null}
              {tab === 'sharing' && clinical ? <ShareRecordPanel patientId={patientId} /> : null}
            </div>
          </div>
        </>
      )}
    </Section>
  );
}
