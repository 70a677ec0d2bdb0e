/**
 * A submission as FHIR: a QuestionnaireResponse against the versioned Questionnaire, and one
 * DocumentReference per photo (Binary is not a resource type the store replicates; a DocumentReference
 * carries the bytes as an attachment and syncs like any document). Every id is derived from the
 * device's submission id, so the node and the hub write the same logical resources.
 */
import type { DocumentReference, QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import type { SubmissionPayload } from '@steadfast/domain/api';
import {
  evaluateRedFlags, normaliseUkMobile, questionnaireVersion, submissionPhotoId, submissionRecordId, submissionReference,
} from '@steadfast/domain/online-consultations';
import { OC_RECEIVED_VIA_EXTENSION, OC_REFERENCE_SYSTEM, OC_SUBMISSION_SYSTEM } from '@steadfast/domain/systems';

export type ReceivedVia = 'node' | 'hub';

export interface SubmissionRecords {
  response: QuestionnaireResponse & { id: string };
  photos: Array<DocumentReference & { id: string }>;
}

const str = (linkId: string, value: string | undefined): QuestionnaireResponseItem[] =>
  value === undefined || value === '' ? [] : [{ linkId, answer: [{ valueString: value }] }];

export function submissionRecords(practice: string, p: SubmissionPayload, receivedAt: string, via: ReceivedVia): SubmissionRecords {
  const def = questionnaireVersion(p.questionnaireVersion)!;
  const id = submissionRecordId(practice, p.submissionId);
  const photos = (p.photos ?? []).map((photo, i): DocumentReference & { id: string } => ({
    resourceType: 'DocumentReference',
    id: submissionPhotoId(practice, p.submissionId, i),
    status: 'current',
    identifier: [{ system: OC_SUBMISSION_SYSTEM, value: `${p.submissionId}#photo-${i}` }],
    description: 'Photo sent with an online consultation',
    date: receivedAt,
    content: [{ attachment: { contentType: photo.contentType, data: photo.data.replace(/\s/g, ''), ...(photo.filename ? { title: photo.filename } : {}), creation: receivedAt } }],
    context: { related: [{ reference: `QuestionnaireResponse/${id}` }] },
  }));
  const flags = evaluateRedFlags(def, p.kind, p.redFlags);
  const ident = p.identity;
  const response: QuestionnaireResponse & { id: string } = {
    resourceType: 'QuestionnaireResponse',
    id,
    identifier: { system: OC_SUBMISSION_SYSTEM, value: p.submissionId.toLowerCase() },
    questionnaire: `${def.url}|${def.version}`,
    status: 'completed',
    authored: receivedAt,
    extension: [
      { url: OC_RECEIVED_VIA_EXTENSION, valueCode: via },
      { url: OC_REFERENCE_SYSTEM, valueString: submissionReference(practice, p.submissionId) },
    ],
    item: [
      { linkId: 'kind', answer: [{ valueString: p.kind }] },
      {
        linkId: 'red-flags',
        item: def.redFlags.filter((q) => q.kinds.includes(p.kind)).map((q) => ({ linkId: q.linkId, text: q.text, answer: [{ valueBoolean: flags.raised.includes(q.linkId) }] })),
      },
      {
        linkId: 'request',
        item: def.questions[p.kind].filter((q) => p.answers[q.linkId] !== undefined && p.answers[q.linkId] !== '').map((q) => ({ linkId: q.linkId, text: q.text, answer: [{ valueString: String(p.answers[q.linkId]) }] })),
      },
      {
        linkId: 'identity',
        item: [
          ...str('givenName', ident.givenName.trim()),
          ...str('familyName', ident.familyName.trim()),
          ...str('birthDate', ident.birthDate),
          ...str('postcode', ident.postcode.trim().toUpperCase()),
          ...str('mobile', ident.mobile ? normaliseUkMobile(ident.mobile) : undefined),
          ...str('email', ident.email?.trim()),
          ...str('nhsNumber', ident.nhsNumber?.replace(/[\s-]/g, '')),
          ...str('contactPreference', p.contactPreference),
        ],
      },
      ...(photos.length ? [{ linkId: 'photos', item: photos.map((d) => ({ linkId: 'photo', answer: [{ valueReference: { reference: `DocumentReference/${d.id}` } }] })) }] : []),
    ],
  };
  // An empty group is not valid FHIR (item needs answer or item).
  response.item = response.item!.filter((i) => i.answer?.length || i.item?.length);
  return { response, photos };
}

/** Read a stored QuestionnaireResponse back into its parts (for the triage index and detail). */
export function readSubmission(qr: QuestionnaireResponse) {
  const group = (linkId: string) => qr.item?.find((i) => i.linkId === linkId)?.item ?? [];
  const value = (items: QuestionnaireResponseItem[], linkId: string) => items.find((i) => i.linkId === linkId)?.answer?.[0]?.valueString;
  const identity = group('identity');
  return {
    submissionId: qr.identifier?.value ?? '',
    version: qr.questionnaire?.split('|')[1] ?? '',
    kind: (qr.item?.find((i) => i.linkId === 'kind')?.answer?.[0]?.valueString ?? 'medical') as 'medical' | 'admin',
    receivedAt: qr.authored ?? '',
    via: (qr.extension?.find((e) => e.url === OC_RECEIVED_VIA_EXTENSION)?.valueCode ?? 'node') as ReceivedVia,
    reference: qr.extension?.find((e) => e.url === OC_REFERENCE_SYSTEM)?.valueString ?? '',
    redFlags: group('red-flags').map((i) => ({ linkId: i.linkId, text: i.text ?? i.linkId, yes: i.answer?.[0]?.valueBoolean === true })),
    answers: group('request').map((i) => ({ linkId: i.linkId, question: i.text ?? i.linkId, answer: i.answer?.[0]?.valueString ?? '' })),
    identity: {
      givenName: value(identity, 'givenName') ?? '',
      familyName: value(identity, 'familyName') ?? '',
      birthDate: value(identity, 'birthDate') ?? '',
      postcode: value(identity, 'postcode') ?? '',
      ...(value(identity, 'mobile') ? { mobile: value(identity, 'mobile') } : {}),
      ...(value(identity, 'email') ? { email: value(identity, 'email') } : {}),
      ...(value(identity, 'nhsNumber') ? { nhsNumber: value(identity, 'nhsNumber') } : {}),
    },
    contactPreference: (value(identity, 'contactPreference') ?? 'sms') as 'sms' | 'email',
    photoIds: group('photos').map((i) => i.answer?.[0]?.valueReference?.reference?.split('/')[1] ?? '').filter(Boolean),
  };
}
