import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import {
  RELATION_OWNED_BY,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { NotificationPayload } from '@backstage/plugin-notifications-common';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import {
  type Run,
  isTerminalPhase,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { RunStore } from '../database/RunStore';

/** Where the run page of a run is in the app: the entity's Chaos tab with `?run=`. */
export function runPageLink(run: Pick<Run, 'id' | 'entityRef'>): string {
  const { kind, namespace, name } = parseEntityRef(run.entityRef);
  const path = [namespace, kind.toLocaleLowerCase('en-US'), name]
    .map(encodeURIComponent)
    .join('/');
  return `/catalog/${path}/chaos?run=${encodeURIComponent(run.id)}`;
}

/** What the notification says: the verdict in the title, blast radius and cause in the text. */
export function runEndPayload(run: Run): NotificationPayload {
  const entity = parseEntityRef(run.entityRef).name;
  // The outcome first: the app's toast shows only the first 50 characters of a title.
  let outcome: string = run.phase;
  if (run.verdict)
    outcome =
      run.phase === 'Completed' ? run.verdict : `${run.phase}, ${run.verdict}`;
  const radius = run.blastRadius
    ? `Blast radius: ${run.blastRadius.selected} of ${run.blastRadius.eligible} pods (${run.blastRadius.percent}%, limit ${run.blastRadius.limit}%).`
    : 'Blast radius: no pods were selected.';
  const cause = [run.reason, run.message].filter(Boolean).join(': ');
  const bad =
    run.phase === 'Failed' ||
    run.phase === 'Aborted' ||
    run.verdict === 'Failed';
  return {
    title: `Chaos run ${outcome}: ${run.experimentName} on ${entity}`,
    description: [
      `Verdict: ${run.verdict ?? 'none'} (${run.phase}).`,
      radius,
      cause && `${cause}.`,
    ]
      .filter(Boolean)
      .join(' '),
    link: runPageLink(run),
    severity: bad ? 'high' : 'normal',
    topic: 'chaos-run',
    // The notifications backend updates rather than duplicates a notification of the same scope.
    scope: `chaos-run:${run.id}`,
  };
}

function userRef(ref: string): string | undefined {
  try {
    const parsed = parseEntityRef(ref);
    return parsed.kind.toLocaleLowerCase('en-US') === 'user'
      ? stringifyEntityRef(parsed)
      : undefined;
  } catch {
    return undefined; // a scheduled run's starter is `schedule (<cron>)`, nobody to tell
  }
}

/**
 * Tells the people concerned that a run ended: the owners of its entity (every `ownedBy`
 * relation; the notifications backend expands groups to their members) and the user who started
 * it. Once per run: the run store's claim decides which caller sends it, and a failed send gives
 * the claim back so the next status replay tries again. Dry runs touch nothing and are not
 * announced.
 */
export class RunEndNotifier {
  constructor(
    private readonly deps: {
      notifications: NotificationService;
      catalog: CatalogService;
      auth: AuthService;
      runs: Pick<RunStore, 'claimNotification' | 'releaseNotification'>;
      logger: LoggerService;
    },
  ) {}

  /** The recipients of a run's end: owners of the entity and the starter, as entity refs. */
  async recipients(run: Run): Promise<string[]> {
    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const entity = await this.deps.catalog.getEntityByRef(run.entityRef, {
      credentials,
    });
    const owners = (entity?.relations ?? [])
      .filter(r => r.type === RELATION_OWNED_BY)
      .map(r => r.targetRef);
    const starter = userRef(run.createdBy);
    return [...new Set([...owners, ...(starter ? [starter] : [])])];
  }

  /** Returns whether this call sent the notification. */
  async runEnded(run: Run): Promise<boolean> {
    if (!isTerminalPhase(run.phase) || run.dryRun) return false;
    if (!(await this.deps.runs.claimNotification(run.id))) return false;
    try {
      const recipients = await this.recipients(run);
      if (recipients.length === 0) {
        this.deps.logger.warn(
          `Run ${run.id} of ${run.entityRef} ended, but it has no owner or starter to tell`,
        );
        return false;
      }
      await this.deps.notifications.send({
        recipients: { type: 'entity', entityRef: recipients },
        payload: runEndPayload(run),
      });
      return true;
    } catch (error) {
      this.deps.logger.warn(
        `Could not send the end-of-run notification of run ${run.id}: ${error}`,
      );
      await this.deps.runs.releaseNotification(run.id).catch(() => undefined);
      return false;
    }
  }
}
