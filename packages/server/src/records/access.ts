import { canAccess, isSupportedResourceType, resourceTypes, sensitivity, SteadfastError, type Access, type SupportedResourceType } from '@steadfast/domain';
import type { SessionUser } from '../auth/accounts.ts';

/** The URL's resource type, or 404 naming the types we serve. */
export function resourceTypeOf(raw: string): SupportedResourceType {
  if (!isSupportedResourceType(raw)) {
    throw new SteadfastError('not-found', `Resource type "${raw}" is not one Steadfast serves`, { field: 'resourceType', hint: `Use one of: ${resourceTypes.join(', ')}` });
  }
  return raw;
}

/** 403 unless the user's role may read or write this type. */
export function assertAccess(user: SessionUser, type: SupportedResourceType, access: Access): void {
  if (canAccess(user.role, type, access)) return;
  const what = sensitivity[type] === 'clinical' ? `${type} records are clinical` : `${type} records are restricted`;
  throw new SteadfastError('forbidden', `${what}; your role (${user.role}) may not ${access === 'read' ? 'see' : 'change'} them`, {
    hint: 'Ask a clinician, or a practice administrator if you need a different role',
  });
}
