/**
 * Schema changes of every capability's own tables, from the capabilities' own declarations, applied by
 * the store at open in name order. Names are global: 01xx server core, 02xx appointments/tasks,
 * 03xx pathology, 04xx sync, 05xx break-glass, 06xx the durable inbox, ...
 */
import type { Migration } from '@steadfast/store';
import { capabilities } from './capabilities.ts';

export const migrations: Migration[] = capabilities.flatMap((c) => [...(c.migrations ?? [])]);
