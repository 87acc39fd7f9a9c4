import { check, NetnsCommands } from './exec';

/**
 * The kernel objects a network fault adds inside a pod's network namespace. These are written
 * to the node ledger BEFORE anything is added, exactly as they will be added, so that recovery
 * (even by a restarted daemon) removes exactly these and nothing else.
 */
export type NetworkObject = TcTree | IptablesChain;

/**
 * One htb tree on one device. Deleting its root qdisc (by handle) removes every class, child
 * qdisc and filter below it, so recovery is one command whatever point injection reached.
 */
export interface TcTree {
  kind: 'tc';
  device: string;
  /** Handle of the root qdisc, e.g. `c3a1:`; `tc qdisc del ... root handle` refuses any other. */
  rootHandle: string;
  /** The exact commands, in order; the first adds the root qdisc. */
  commands: string[][];
}

/**
 * A chain of our own in one table, and the jumps into it from built-in chains. Rules are added
 * before the jumps, so traffic meets the chain only once it is complete.
 */
export interface IptablesChain {
  kind: 'iptables';
  /** iptables binary that added it (iptables, iptables-legacy, iptables-nft). */
  binary: string;
  table: 'filter';
  chain: string;
  /** Arguments after `-A <chain>`, one rule each. */
  rules: string[][];
  /** Jumps into the chain: arguments after `-I <from> 1`. */
  jumps: Array<{ from: 'INPUT' | 'OUTPUT'; args: string[] }>;
}

/**
 * Points inside injection that a test can crash the daemon at (see node/crashPoint.ts). Named
 * here because only the object code knows where they fall.
 */
export type InjectionStep = 'after-tc-root-qdisc' | 'after-iptables-chain';

export interface ApplyHooks {
  /** Called between the steps of adding an object; may not return (crash tests). */
  afterStep?(step: InjectionStep): void | Promise<void>;
}

/** `iptables -w` waits this many seconds for the xtables lock instead of failing. */
const XTABLES_WAIT_SECONDS = '5';

export function iptablesArgv(
  object: Pick<IptablesChain, 'binary' | 'table'>,
  args: readonly string[],
): string[] {
  return [
    object.binary,
    '-w',
    XTABLES_WAIT_SECONDS,
    '-t',
    object.table,
    ...args,
  ];
}

/** The exact commands that add an iptables chain, in order. */
export function iptablesAddCommands(object: IptablesChain): string[][] {
  return [
    iptablesArgv(object, ['-N', object.chain]),
    ...object.rules.map(rule =>
      iptablesArgv(object, ['-A', object.chain, ...rule]),
    ),
    ...object.jumps.map(jump =>
      iptablesArgv(object, ['-I', jump.from, '1', ...jump.args]),
    ),
  ];
}

/** Adds one object. Throws a CommandError on the first failing command. */
export async function addObject(
  commands: NetnsCommands,
  object: NetworkObject,
  hooks: ApplyHooks = {},
): Promise<void> {
  if (object.kind === 'tc') {
    for (const [index, argv] of object.commands.entries()) {
      await check(commands, argv);
      if (index === 0) {
        await hooks.afterStep?.('after-tc-root-qdisc');
      }
    }
    return;
  }
  const all = iptablesAddCommands(object);
  const chainAndRules = all.length - object.jumps.length;
  for (const [index, argv] of all.entries()) {
    await check(commands, argv);
    if (index === chainAndRules - 1) {
      await hooks.afterStep?.('after-iptables-chain');
    }
  }
}

// What tc and iptables (legacy and nft flavours) print when the thing to remove is not there.
const TC_ABSENT =
  /Invalid handle|Cannot find device|No such file or directory/i;
const IPTABLES_ABSENT =
  /does not exist|Bad rule|No chain\/target\/match|Couldn't load target|No such file or directory|incompatible/i;

/**
 * Removes one object. Idempotent: whatever is already gone is not an error, so recovery can be
 * repeated after a crash at any point of injection or of an earlier recovery.
 */
export async function removeObject(
  commands: NetnsCommands,
  object: NetworkObject,
): Promise<void> {
  if (object.kind === 'tc') {
    // With `handle`, the kernel deletes the root only if it is ours ("Invalid handle" otherwise):
    // a qdisc someone else put there after we were gone is never touched.
    const argv = [
      'tc',
      'qdisc',
      'del',
      'dev',
      object.device,
      'root',
      'handle',
      object.rootHandle,
    ];
    const result = await commands.run(argv);
    if (result.code !== 0 && !TC_ABSENT.test(result.stderr)) {
      await check(commands, argv);
    }
    return;
  }
  // Fast path, one process: the jumps, the rules and the chain go in one iptables-restore
  // transaction, exactly as they were added. It fails as a whole (and changes nothing) when the
  // table is not as added: an object already gone, a jump twice (a crash part way through an
  // earlier attempt or recovery). Then the step-by-step removal below, which tolerates both.
  const script = iptablesRemovalScript(object);
  if (script !== undefined) {
    const restore = await commands.run(
      [
        `${object.binary}-restore`,
        `--wait=${XTABLES_WAIT_SECONDS}`,
        '--noflush',
      ],
      script,
    );
    if (restore.code === 0) return;
  }
  for (const jump of object.jumps) {
    // A jump may exist more than once if an earlier attempt died after adding it: remove all.
    for (let i = 0; i < 16; i++) {
      const argv = iptablesArgv(object, ['-D', jump.from, ...jump.args]);
      const result = await commands.run(argv);
      if (result.code === 0) {
        continue;
      }
      if (IPTABLES_ABSENT.test(result.stderr)) {
        break;
      }
      await check(commands, argv);
    }
  }
  for (const op of ['-F', '-X']) {
    const argv = iptablesArgv(object, [op, object.chain]);
    const result = await commands.run(argv);
    if (result.code !== 0 && !IPTABLES_ABSENT.test(result.stderr)) {
      await check(commands, argv);
    }
  }
}

/**
 * The iptables-restore input that removes an added chain in one transaction (with --noflush), or
 * undefined when an argument would need quoting (none of ours does; never guess at quoting).
 */
export function iptablesRemovalScript(
  object: IptablesChain,
): string | undefined {
  const lines = [
    ...object.jumps.map(jump => ['-D', jump.from, ...jump.args]),
    ['-F', object.chain],
    ['-X', object.chain],
  ];
  if (lines.some(line => line.some(arg => arg === '' || /[\s"'#\\]/.test(arg))))
    return undefined;
  return [
    `*${object.table}`,
    ...lines.map(line => line.join(' ')),
    'COMMIT',
    '',
  ].join('\n');
}

/** Human-readable one-liner for logs and status messages. */
export function describeObject(object: NetworkObject): string {
  return object.kind === 'tc'
    ? `tc root ${object.rootHandle} on ${object.device}`
    : `iptables chain ${object.chain} (${object.jumps
        .map(j => j.from)
        .join(', ')})`;
}
