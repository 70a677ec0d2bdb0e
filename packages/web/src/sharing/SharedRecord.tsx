import { useEffect, useState } from 'react';
import { api, load, type Loaded } from '../api.ts';
import type { Bundle } from '../fhirTypes.ts';
import { Banner } from '../record/Banner.tsx';
import { Documents } from '../record/Documents.tsx';
import { Section } from '../record/Section.tsx';
import { Summary } from '../record/Summary.tsx';
import { Timeline } from '../record/Timeline.tsx';
import type { PatientRecordData } from '../record/usePatientRecord.ts';
import { onLinkClick } from '../router.ts';
import { recordFromBundle } from './recordFromBundle.ts';

/** One record another practice shares with this one: the usual record screens, read-only. */
export function SharedRecord({ owner, patientId }: { owner: string; patientId: string }) {
  const [data, setData] = useState<Loaded<PatientRecordData>>({ state: 'loading' });
  useEffect(() => {
    void load(async () => {
      const bundle = await api<Bundle>(`/api/shared/${encodeURIComponent(owner)}/${encodeURIComponent(patientId)}`);
      const record = recordFromBundle(bundle);
      if (!record) throw new Error('the shared record has not arrived from the hub yet');
      return record;
    }).then(setData);
  }, [owner, patientId]);
  return (
    <>
      <p>
        <a className="nhsuk-back-link__link" href="/shared" onClick={onLinkClick('/shared')}>
          Records shared with this practice
        </a>
      </p>
      <div className="nhsuk-warning-callout" data-testid="shared-record-notice">
        <h2 className="nhsuk-warning-callout__label">
          <span role="text">
            <span className="nhsuk-u-visually-hidden">Important: </span>Shared by practice {owner}
          </span>
        </h2>
        <p>This is a read-only copy of the record held by practice {owner}. Record the care you give in your own practice’s record.</p>
      </div>
      <Section data={data} what="the shared record">
        {(record) =>
          record.patient.state === 'ok' ? (
            <>
              <Banner patient={record.patient.value} gp={record.gp} allergies={record.allergies} flags={record.flags} />
              <h1 className="nhsuk-u-visually-hidden">Shared patient record</h1>
              <h2>Summary</h2>
              <Summary data={record} />
              <Timeline data={record} />
              <Documents data={record} />
            </>
          ) : null
        }
      </Section>
    </>
  );
}
