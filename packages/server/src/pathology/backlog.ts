/**
 * Pathology's backlog figures (the capability contract's `backlog`): results received and not yet
 * filed, and results filed and waiting for a clinician's review (orders waiting for the laboratory
 * are in the outbox's figures). Counts and the oldest time only; no patient data.
 */
import type { BacklogFigure } from '@steadfast/domain/api';
import type { AppDeps } from '../capability.ts';
import { listInbox } from './inbox.ts';

export async function pathologyBacklog(deps: AppDeps): Promise<BacklogFigure[]> {
  const { store } = deps;
  const inbox = await listInbox(store, { id: '' }, 'all');
  const figure = (kind: BacklogFigure['kind'], label: string, count: number, oldest: string | null | undefined): BacklogFigure => ({
    kind,
    label,
    count,
    ...(count > 0 && oldest ? { oldest } : {}),
  });
  return [
    figure('results-unfiled', 'Results received, not yet filed', inbox.backlog.waitingToFile, inbox.backlog.oldestWaitingToFile),
    figure('results-unreviewed', 'Results waiting for a clinician', inbox.backlog.count, inbox.backlog.oldestAuthoredOn),
  ];
}
