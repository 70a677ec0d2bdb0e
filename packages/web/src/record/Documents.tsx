import { conceptText, formatDate } from '../format.ts';
import { newestFirst } from './clinical.ts';
import { Section } from './Section.tsx';
import type { PatientRecordData } from './usePatientRecord.ts';

/** A filed document's Binary is served (with safe headers) by the documents capability. */
function fileHref(url: string): string {
  const m = /^Binary\/([A-Za-z0-9.-]+)$/.exec(url);
  return m ? `/api/documents/binary/${m[1]}` : url;
}

export function Documents({ data }: { data: PatientRecordData }) {
  return (
    <>
      <h2 className="nhsuk-heading-m">Documents</h2>
      <Section data={data.documents} what="documents">
        {(list) =>
          list.length ? (
            <table className="nhsuk-table">
              <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Documents, newest first</caption>
              <thead className="nhsuk-table__head">
                <tr className="nhsuk-table__row">
                  <th className="nhsuk-table__header" scope="col">Date</th>
                  <th className="nhsuk-table__header" scope="col">Type</th>
                  <th className="nhsuk-table__header" scope="col">Description</th>
                  <th className="nhsuk-table__header" scope="col">File</th>
                </tr>
              </thead>
              <tbody className="nhsuk-table__body">
                {newestFirst(list, (d) => d.date).map((d) => {
                  const att = d.content?.[0]?.attachment;
                  return (
                    <tr className="nhsuk-table__row" key={d.id}>
                      <td className="nhsuk-table__cell">{formatDate(d.date)}</td>
                      <td className="nhsuk-table__cell">{conceptText(d.type) || conceptText(d.category?.[0])}</td>
                      <td className="nhsuk-table__cell">{d.description ?? att?.title ?? ''}</td>
                      <td className="nhsuk-table__cell">{att?.url ? <a href={fileHref(att.url)} target="_blank" rel="noopener">{att.title ?? 'Open'}</a> : (att?.contentType ?? '')}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : (
            <p>No documents.</p>
          )
        }
      </Section>
    </>
  );
}
