/**
 * Pathology's backlog figures (the capability contract's `backlog`): results received and not yet
 * filed, results filed and waiting for a clinician's review, and orders waiting to reach the
 * laboratory. Counts and the oldest time only; no patient data.
 */
import type { BacklogFigure } from '@steadfast/domain/api';
import type { AppDeps } from '../capability.ts';
import { listInbox } from './inbox.ts';
import { pdb } from './tables.ts';

export async function pathologyBacklog(deps: AppDeps): Promise<BacklogFigure[]> {
  const { store } = deps;
  const inbox = await listInbox(store, { id: '' }, 'all');
  const outbox = await pdb(store.db)
    .selectFrom('pathology_outbox')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('practice', '=', store.practice)
    .where('state', 'in', ['pending', 'sending', 'failed'])
    .executeTakeFirst();
  const figure = (kind: BacklogFigure['kind'], label: string, count: number, oldest: string | null | undefined): BacklogFigure => ({
    kind,
    label,
    count,
    ...(count > 0 && oldest ? { oldest } : {}),
  });
  return [
    figure('results-unfiled', 'Results received, not yet filed', inbox.backlog.waitingToFile, inbox.backlog.oldestWaitingToFile),
    figure('results-unreviewed', 'Results waiting for a clinician', inbox.backlog.count, inbox.backlog.oldestAuthoredOn),
    figure('outbox-waiting', 'Pathology orders waiting to reach the laboratory', Number(outbox?.n ?? 0), outbox?.oldest as string | null | undefined),
  ];
}
