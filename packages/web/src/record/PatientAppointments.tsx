import { formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { newestFirst } from './clinical.ts';
import { Section } from './Section.tsx';
import type { PatientRecordData } from './usePatientRecord.ts';
import { appointmentStatusText } from '../appointments/status.ts';

export function PatientAppointments({ data, patientId }: { data: PatientRecordData; patientId: string }) {
  return (
    <>
      <h2 className="nhsuk-heading-m">Appointments</h2>
      <p>
        <a href={`/appointments?patient=${patientId}`} onClick={onLinkClick(`/appointments?patient=${patientId}`)}>
          Book an appointment for this patient
        </a>
      </p>
      <Section data={data.appointments} what="appointments">
        {(list) =>
          list.length ? (
            <ul data-testid="patient-appointments">
              {newestFirst(list, (a) => a.start).map((a) => (
                <li key={a.id}>
                  {formatDateTime(a.start)} — {a.participant?.find((p) => p.actor?.reference?.startsWith('Practitioner/'))?.actor?.display ?? 'clinician'} ({appointmentStatusText(a.status)})
                </li>
              ))}
            </ul>
          ) : (
            <p>No appointments.</p>
          )
        }
      </Section>
    </>
  );
}
