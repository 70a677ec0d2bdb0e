/** GET /fhir/R4/metadata: the CapabilityStatement, generated from the types and search parameter table. */
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { resourceTypes, searchParameters } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';

const typeOfKind = { token: 'token', string: 'string', date: 'date', reference: 'reference' } as const;

export function capabilityStatement(base: string, deps: Pick<AppDeps, 'config'>): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Steadfast', version: '0.1.0' },
    implementation: { description: `Steadfast ${deps.config.role} for practice ${deps.config.practice}`, url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          description: 'Sign in with POST /api/auth/login; send the session cookie or "Authorization: Bearer <token>". Roles: receptionist, clinician, practice-admin.',
        },
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        resource: resourceTypes.map((type) => ({
          type,
          versioning: 'versioned',
          readHistory: true,
          updateCreate: true,
          conditionalCreate: true,
          conditionalUpdate: false,
          conditionalDelete: 'not-supported',
          interaction:
            type === 'AuditEvent'
              ? [{ code: 'read' }, { code: 'search-type' }]
              : [{ code: 'read' }, { code: 'vread' }, { code: 'history-instance' }, { code: 'create' }, { code: 'update' }, { code: 'delete' }, { code: 'search-type' }],
          searchParam: Object.entries(searchParameters[type] ?? {}).map(([name, def]) => ({ name, type: typeOfKind[def.kind], documentation: def.description })),
        })),
      },
    ],
  };
}
