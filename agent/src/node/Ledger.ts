import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FaultType } from '@chaoscraft/backstage-plugin-chaos-common';
import type { NetworkObject } from '../faults/network/objects';
import type { StressProcessObject } from '../faults/stress/fault';

/** Something a node fault adds: kernel network objects, or a stress process. */
export type LedgerObject = NetworkObject | StressProcessObject;

/** Identifies one (run, pod, fault) target across the ledger, kernel objects and status. */
export interface TargetIdentity {
  runUid: string;
  podNamespace: string;
  pod: string;
  fault: string;
}

/** The ledger key of a target: the same for every attempt on the same (run, pod, fault). */
export function targetKey(identity: TargetIdentity): string {
  return `${identity.runUid}/${identity.podNamespace}/${identity.pod}/${identity.fault}`;
}

/** The run an entry belongs to. */
export interface LedgerRun {
  uid: string;
  name: string;
  namespace: string;
}

/** One fault on one pod: what the daemon is about to add, or has added, in which namespace. */
export interface LedgerEntry {
  /** Unique per injection attempt. */
  id: string;
  /** targetKey(): the same for every attempt on the same (run, pod, fault). */
  key: string;
  run: LedgerRun;
  target: {
    podNamespace: string;
    pod: string;
    podUid?: string;
    fault: FaultType;
  };
  /**
   * For network faults: the pod's network namespace, and its nsfs inode so a reused path is
   * never mistaken for it.
   */
  netns?: { path: string; inode?: number };
  /** What the fault adds, exactly as recovery removes it. */
  objects: LedgerObject[];
  notes: string[];
  intentAt: string;
  /** Set once every object was added. Absent: injection stopped part way (crash or error). */
  appliedAt?: string;
}

/**
 * The file holds JSON lines, appended and fsynced one at a time:
 *   {"op":"intent","entry":{...}}      before the first object is added
 *   {"op":"applied","id":...,"time"}   after the last object was added
 *   {"op":"done","id":...,"time","outcome"}   after every object was removed (or never added)
 * An entry with an intent and no done is held: its objects may exist and must be removed.
 * A torn last line (crash mid-write) is skipped on read, and every outcome of that is safe: a
 * torn intent's action never started (actions wait for their record's fsync); a torn applied
 * makes the entry look partial, so it is reverted; a torn done makes recovery run again, which
 * is idempotent. Opening compacts the file, so nothing is ever appended behind a torn line.
 */
export type LedgerLine =
  | { op: 'intent'; entry: LedgerEntry }
  | { op: 'applied'; id: string; time: string }
  | { op: 'done'; id: string; time: string; outcome: string };

export interface LedgerReadResult {
  held: LedgerEntry[];
  skippedLines: number;
}

/**
 * What this node has put into pod network namespaces and not yet removed, kept on the host
 * (hostPath) so that it survives the daemon, its pod and its container image.
 */
export class Ledger {
  private readonly held = new Map<string, LedgerEntry>();
  /** Serializes writes: appends and compaction never interleave. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** Reads the file (creating its directory), compacts it to the held entries, and opens it. */
  static async open(
    file: string,
  ): Promise<{ ledger: Ledger; skippedLines: number }> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const ledger = new Ledger(file);
    const { held, skippedLines } = await readLedgerFile(file);
    for (const entry of held) {
      ledger.held.set(entry.id, entry);
    }
    await ledger.compact();
    return { ledger, skippedLines };
  }

  static newEntryId(): string {
    return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  }

  /** Entries whose objects may still exist, oldest first. */
  entries(): LedgerEntry[] {
    return [...this.held.values()];
  }

  entriesForRun(runUid: string): LedgerEntry[] {
    return this.entries().filter(entry => entry.run.uid === runUid);
  }

  entryForKey(key: string): LedgerEntry | undefined {
    return this.entries().find(entry => entry.key === key);
  }

  /** Records what is about to be added. Resolves only once it is on disk. */
  async recordIntent(entry: LedgerEntry): Promise<void> {
    await this.append({ op: 'intent', entry });
    this.held.set(entry.id, entry);
  }

  async recordApplied(id: string): Promise<void> {
    const time = new Date().toISOString();
    await this.append({ op: 'applied', id, time });
    const entry = this.held.get(id);
    if (entry) {
      entry.appliedAt = time;
    }
  }

  /** Everything of this entry is gone; it is no longer held. */
  async recordDone(id: string, outcome: string): Promise<void> {
    await this.append({
      op: 'done',
      id,
      time: new Date().toISOString(),
      outcome,
    });
    this.held.delete(id);
  }

  /**
   * Rewrites the file with only the held entries: written to a temp file, fsynced, renamed over
   * the old one, and the directory fsynced, so a crash leaves either file whole.
   */
  compact(): Promise<void> {
    return this.serialize(async () => {
      const lines: LedgerLine[] = [];
      for (const entry of this.held.values()) {
        const { appliedAt, ...intent } = entry;
        lines.push({ op: 'intent', entry: intent });
        if (appliedAt) {
          lines.push({ op: 'applied', id: entry.id, time: appliedAt });
        }
      }
      const temp = `${this.file}.tmp-${process.pid}`;
      const handle = await fs.open(temp, 'w', 0o600);
      try {
        await handle.writeFile(
          lines.map(line => `${JSON.stringify(line)}\n`).join(''),
        );
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, this.file);
      await syncDirectory(path.dirname(this.file));
    });
  }

  private append(line: LedgerLine): Promise<void> {
    return this.serialize(async () => {
      const handle = await fs.open(this.file, 'a', 0o600);
      try {
        await handle.write(`${JSON.stringify(line)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  private serialize(action: () => Promise<void>): Promise<void> {
    const next = this.tail.then(action, action);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Folds the file's lines into the held entries. A missing file is an empty ledger. */
export async function readLedgerFile(file: string): Promise<LedgerReadResult> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { held: [], skippedLines: 0 };
    }
    throw error;
  }
  const held = new Map<string, LedgerEntry>();
  let skippedLines = 0;
  for (const raw of text.split('\n')) {
    if (!raw.trim()) {
      continue;
    }
    let line: LedgerLine;
    try {
      line = JSON.parse(raw) as LedgerLine;
    } catch {
      skippedLines++;
      continue;
    }
    if (line.op === 'intent' && line.entry?.id) {
      held.set(line.entry.id, { ...line.entry });
    } else if (line.op === 'applied') {
      const entry = held.get(line.id);
      if (entry) {
        entry.appliedAt = line.time;
      }
    } else if (line.op === 'done') {
      held.delete(line.id);
    } else {
      skippedLines++;
    }
  }
  return { held: [...held.values()], skippedLines };
}
