/**
 * The HL7 security label that marks test data (v3 ActReason HTEST, "test health data"). Steadfast's
 * demo practice puts it on every resource, so screens and exports can say plainly that a record is
 * synthetic and no one mistakes it for a real patient's.
 */
export const TEST_DATA_SECURITY_LABEL = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  code: 'HTEST',
  display: 'test health data',
} as const;

/** True when a resource carries the test-data security label. */
export function isTestData(resource: { meta?: { security?: ReadonlyArray<{ system?: string; code?: string }> } } | null | undefined): boolean {
  return Boolean(resource?.meta?.security?.some((s) => s.system === TEST_DATA_SECURITY_LABEL.system && s.code === TEST_DATA_SECURITY_LABEL.code));
}

/**
 * Records written for a test-data patient (a request, a filed result) carry the label too, so they
 * are never taken for a real patient's wherever they are shown or exported on their own.
 */
export function labelLikePatient<T extends { meta?: { security?: Array<{ system?: string; code?: string; display?: string }> } }>(
  patient: Parameters<typeof isTestData>[0],
  resource: T,
): T {
  if (!isTestData(patient) || isTestData(resource)) return resource;
  return { ...resource, meta: { ...resource.meta, security: [...(resource.meta?.security ?? []), { ...TEST_DATA_SECURITY_LABEL }] } };
}
