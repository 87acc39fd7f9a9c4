import { promises as fs } from 'node:fs';
import type { NetworkFault } from '@chaoscraft/backstage-plugin-chaos-common';
import { crashPoint } from '../../node/crashPoint';
import { Ledger, LedgerEntry, LedgerRun } from '../../node/Ledger';
import type { NetnsResolver } from '../../node/netns';
import { NetnsCommands, NsenterCommands } from './exec';
import { objectNames, targetKey } from './names';
import { addObject, removeObject } from './objects';
import { planNetworkFault } from './planners';
import type { NodeCapabilities } from './types';

/** One network fault on one pod of one run. */
export interface NetworkTarget {
  run: LedgerRun;
  podNamespace: string;
  pod: string;
  podUid?: string;
  container?: string;
  fault: NetworkFault;
}

/** The ledger key of one network target. */
export function networkTargetKey(target: NetworkTarget): string {
  return targetKey({
    runUid: target.run.uid,
    podNamespace: target.podNamespace,
    pod: target.pod,
    fault: target.fault.type,
  });
}

/** The target cannot be injected; `reason` is CamelCase for the record. */
export class InjectionRefusedError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'InjectionRefusedError';
  }
}

export interface NetworkInjectorOptions {
  ledger: Ledger;
  resolver: NetnsResolver;
  capabilities: NodeCapabilities;
  /** Inode of the node's own network namespace: a target resolving to it is refused. */
  hostNetnsInode?: number;
  commandsFor?: (netnsPath: string) => NetnsCommands;
}

export type RecoveryOutcome = 'removed' | 'netns-gone';

/**
 * Applies one network fault to one target and recovers one target, with the ledger as the
 * single source of what exists: the objects are on disk before the first is added, and an entry
 * is closed only after every object is removed.
 */
export class NetworkInjector {
  constructor(private readonly options: NetworkInjectorOptions) {}

  get ledger(): Ledger {
    return this.options.ledger;
  }

  /**
   * Adds the fault's objects in the pod's namespace. Idempotent: an entry that was fully applied
   * is returned as is; a partial one (an earlier attempt died part way) is removed first. On an
   * error everything this attempt added is removed again before the error is thrown.
   */
  async apply(target: NetworkTarget): Promise<LedgerEntry> {
    const key = networkTargetKey(target);
    const existing = this.ledger.entryForKey(key);
    if (existing?.appliedAt) {
      return existing;
    }
    if (existing) {
      await this.recover(existing);
    }
    const netns = await this.options.resolver.resolve({
      namespace: target.podNamespace,
      name: target.pod,
      uid: target.podUid,
      container: target.container,
    });
    const inode = await netnsInode(netns.path);
    if (inode === undefined) {
      throw new InjectionRefusedError(
        'NetnsNotFound',
        `${netns.path} vanished`,
      );
    }
    if (
      netns.hostNetwork ||
      (this.options.hostNetnsInode !== undefined &&
        inode === this.options.hostNetnsInode)
    ) {
      throw new InjectionRefusedError(
        'HostNetwork',
        'the pod shares the node network namespace (hostNetwork): refusing to touch the node',
      );
    }
    const plan = planNetworkFault(target.fault, {
      names: objectNames(key),
      capabilities: this.options.capabilities,
    });
    const entry: LedgerEntry = {
      id: Ledger.newEntryId(),
      key,
      run: target.run,
      target: {
        podNamespace: target.podNamespace,
        pod: target.pod,
        podUid: target.podUid,
        fault: target.fault.type,
      },
      netns: { path: netns.path, inode },
      objects: plan.objects,
      notes: plan.notes,
      intentAt: new Date().toISOString(),
    };
    await this.ledger.recordIntent(entry);
    crashPoint('after-ledger-intent');
    const commands = this.commandsFor(netns.path);
    try {
      for (const object of plan.objects) {
        await addObject(commands, object, {
          afterStep: step => crashPoint(step),
        });
      }
    } catch (error) {
      await this.recover(entry);
      throw error;
    }
    crashPoint('after-apply');
    await this.ledger.recordApplied(entry.id);
    return this.ledger.entryForKey(key) ?? entry;
  }

  /**
   * Removes exactly the entry's objects, newest first, and closes the entry. Idempotent; when
   * the namespace is gone (pod deleted) there is nothing left to remove.
   */
  async recover(entry: LedgerEntry): Promise<RecoveryOutcome> {
    if (!entry.netns)
      throw new Error(`ledger entry ${entry.id} is not a network fault's`);
    const inode = await netnsInode(entry.netns.path);
    if (
      inode === undefined ||
      (entry.netns.inode !== undefined && inode !== entry.netns.inode)
    ) {
      await this.ledger.recordDone(entry.id, 'netns gone');
      return 'netns-gone';
    }
    const commands = this.commandsFor(entry.netns.path);
    for (const object of [...entry.objects].reverse()) {
      if (object.kind !== 'process') await removeObject(commands, object);
    }
    await this.ledger.recordDone(entry.id, 'removed');
    return 'removed';
  }

  private commandsFor(path: string): NetnsCommands {
    return this.options.commandsFor?.(path) ?? new NsenterCommands(path);
  }
}

/** nsfs inode of a namespace path, or undefined when the path is gone. */
export async function netnsInode(path: string): Promise<number | undefined> {
  try {
    return (await fs.stat(path)).ino;
  } catch {
    return undefined;
  }
}
