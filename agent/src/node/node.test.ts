import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChaosRunResource } from '@chaoscraft/backstage-plugin-chaos-node';
import { assessRun } from './runAssessment';
import { Ledger, LedgerEntry, readLedgerFile } from './Ledger';
import { CrictlNetnsResolver } from './netns';
import { parseNodeDaemonArgs } from './runNodeDaemon';

const NOW = Date.parse('2030-01-01T00:00:30Z');
const run = (
  status: ChaosRunResource['status'],
  extra: Partial<ChaosRunResource> = {},
): ChaosRunResource => ({
  metadata: { name: 'r', namespace: 'n', uid: 'u' },
  spec: {},
  status,
  ...extra,
});

describe('assessRun (the dead-man switch)', () => {
  it('keeps faults only while Injecting/Running with a fresh heartbeat', () => {
    expect(
      assessRun(
        run({ phase: 'Running', heartbeatTime: '2030-01-01T00:00:10Z' }),
        NOW,
        30_000,
      ),
    ).toEqual({ inject: true });
    expect(
      assessRun(
        run({ phase: 'Running', heartbeatTime: '2029-12-31T23:59:59Z' }),
        NOW,
        30_000,
      ),
    ).toMatchObject({
      inject: false,
      reason: 'HeartbeatLost',
    });
    expect(assessRun(undefined, NOW, 30_000)).toMatchObject({
      reason: 'RunDeleted',
    });
    expect(
      assessRun(
        run(
          { phase: 'Running', heartbeatTime: '2030-01-01T00:00:29Z' },
          { spec: { abort: true } },
        ),
        NOW,
        30_000,
      ),
    ).toMatchObject({ reason: 'Aborted' });
    expect(assessRun(run({ phase: 'RollingBack' }), NOW, 30_000)).toMatchObject(
      { reason: 'RollingBack' },
    );
    expect(assessRun(run({ phase: 'Completed' }), NOW, 30_000)).toMatchObject({
      reason: 'RunFinished',
    });
    expect(assessRun(run({ phase: 'Injecting' }), NOW, 30_000)).toMatchObject({
      reason: 'NotStarted',
    });
    expect(
      assessRun(
        run(
          { phase: 'Running', heartbeatTime: '2030-01-01T00:00:29Z' },
          { metadata: { uid: 'u', deletionTimestamp: new Date() } },
        ),
        NOW,
        30_000,
      ),
    ).toMatchObject({ reason: 'RunDeleted' });
  });
});

describe('Ledger', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cc-net-ledger-unit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entry = (id: string): LedgerEntry => ({
    id,
    key: `k-${id}`,
    run: { uid: 'u', name: 'r', namespace: 'n' },
    target: { podNamespace: 'n', pod: 'p', fault: 'network-loss' },
    netns: { path: '/var/run/netns/x', inode: 1 },
    objects: [
      { kind: 'tc', device: 'eth0', rootHandle: '1000:', commands: [] },
    ],
    notes: [],
    intentAt: '2030-01-01T00:00:00Z',
  });

  it('holds intents until done, survives reopening, skips a torn line and compacts', async () => {
    const file = path.join(dir, 'sub', 'ledger.jsonl');
    const { ledger } = await Ledger.open(file);
    await ledger.recordIntent(entry('a'));
    await ledger.recordApplied('a');
    await ledger.recordIntent(entry('b'));
    await ledger.recordIntent(entry('c'));
    await ledger.recordDone('c', 'removed');
    appendFileSync(file, '{"op":"done","id":"a"'); // a crash mid-write
    const read = await readLedgerFile(file);
    expect(read.held.map(e => [e.id, Boolean(e.appliedAt)])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(read.skippedLines).toBe(1);
    const reopened = await Ledger.open(file);
    expect(reopened.skippedLines).toBe(1);
    expect(reopened.ledger.entries().map(e => e.id)).toEqual(['a', 'b']);
    // Compacted: exactly the held entries, no torn tail.
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map(l => JSON.parse(l).op),
    ).toEqual(['intent', 'applied', 'intent']);
  });
});

describe('CrictlNetnsResolver', () => {
  it('pod sandbox → running container → /proc/PID/ns/net, exact name and uid', async () => {
    const calls: string[][] = [];
    const outputs: Record<string, unknown> = {
      pods: {
        items: [
          {
            id: 'sb-other',
            metadata: { name: 'web-1x', namespace: 'shop', uid: 'u1' },
          },
          {
            id: 'sb-1',
            metadata: { name: 'web-1', namespace: 'shop', uid: 'u1' },
          },
        ],
      },
      ps: {
        containers: [
          { id: 'c-side', metadata: { name: 'sidecar' } },
          { id: 'c-app', metadata: { name: 'app' } },
        ],
      },
      inspect: { info: { pid: process.pid } },
      inspectp: {
        info: {
          pid: 1,
          runtimeSpec: {
            linux: {
              namespaces: [
                { type: 'pid' },
                { type: 'network', path: '/proc/1/ns/net' },
              ],
            },
          },
        },
      },
    };
    const resolver = new CrictlNetnsResolver({
      run: async (_file, args) => {
        calls.push(args);
        return {
          code: 0,
          stdout: JSON.stringify(outputs[args[2]]),
          stderr: '',
        };
      },
    });
    const found = await resolver.resolve({
      namespace: 'shop',
      name: 'web-1',
      uid: 'u1',
      container: 'app',
    });
    expect(found).toEqual({
      path: `/proc/${process.pid}/ns/net`,
      via: 'container app pid',
      hostNetwork: false,
    });
    expect(calls[1].slice(2, 4)).toEqual(['inspectp', 'sb-1']);
    expect(calls[2]).toEqual([
      '--runtime-endpoint',
      'unix:///run/containerd/containerd.sock',
      'ps',
      '--pod',
      'sb-1',
      '--state',
      'running',
      '-o',
      'json',
    ]);
    expect(calls[3].slice(2, 4)).toEqual(['inspect', 'c-app']);
  });

  it('says when the pod shares the node network (no network namespace in its sandbox spec)', async () => {
    const outputs: Record<string, unknown> = {
      pods: { items: [{ id: 'sb', metadata: { name: 'p', namespace: 'n' } }] },
      ps: { containers: [{ id: 'c', metadata: { name: 'app' } }] },
      inspect: { info: { pid: process.pid } },
      inspectp: {
        info: {
          pid: 1,
          runtimeSpec: {
            linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
          },
        },
      },
    };
    const resolver = new CrictlNetnsResolver({
      run: async (_file, args) => ({
        code: 0,
        stdout: JSON.stringify(outputs[args[2]]),
        stderr: '',
      }),
    });
    expect(
      (await resolver.resolve({ namespace: 'n', name: 'p' })).hostNetwork,
    ).toBe(true);
  });

  it('falls back to the sandbox process when no container runs', async () => {
    const resolver = new CrictlNetnsResolver({
      run: async (_file, args) => {
        const out: Record<string, unknown> = {
          pods: {
            items: [{ id: 'sb', metadata: { name: 'p', namespace: 'n' } }],
          },
          ps: { containers: [] },
          inspectp: { info: { pid: process.pid } },
        };
        return { code: 0, stdout: JSON.stringify(out[args[2]]), stderr: '' };
      },
    });
    expect((await resolver.resolve({ namespace: 'n', name: 'p' })).via).toBe(
      'pod sandbox pid',
    );
  });

  it('reports a missing pod clearly', async () => {
    const resolver = new CrictlNetnsResolver({
      run: async () => ({ code: 0, stdout: '{"items":[]}', stderr: '' }),
    });
    await expect(
      resolver.resolve({ namespace: 'n', name: 'p' }),
    ).rejects.toThrow(/no ready pod sandbox on this node/);
  });
});

describe('parseNodeDaemonArgs', () => {
  it('reads flags, both spellings, and NODE_NAME', () => {
    expect(
      parseNodeDaemonArgs(
        [
          '--ledger',
          '/l',
          '--heartbeat-timeout=5s',
          '--netns-resolver',
          'static',
          '--netns-map=/m',
        ],
        { NODE_NAME: 'n1' },
      ),
    ).toEqual({
      nodeName: 'n1',
      ledger: '/l',
      heartbeatTimeoutMs: 5000,
      netnsResolver: 'static',
      netnsMap: '/m',
    });
    expect(() => parseNodeDaemonArgs(['--bogus'])).toThrow(/unknown flag/);
    expect(() => parseNodeDaemonArgs(['--netns-resolver', 'docker'])).toThrow(
      /crictl or static/,
    );
  });

  it('reads the client rate limit, either flag alone over the 50/100 default', () => {
    expect(
      parseNodeDaemonArgs(['--kube-qps', '20', '--kube-burst=30'], {})
        .kubeRateLimit,
    ).toEqual({ qps: 20, burst: 30 });
    expect(parseNodeDaemonArgs(['--kube-burst=30'], {}).kubeRateLimit).toEqual({
      qps: 50,
      burst: 30,
    });
    expect(parseNodeDaemonArgs([], {}).kubeRateLimit).toBeUndefined();
    expect(() => parseNodeDaemonArgs(['--kube-qps', 'x'], {})).toThrow(
      /--kube-qps/,
    );
    expect(() => parseNodeDaemonArgs(['--kube-burst', '0'], {})).toThrow(
      /--kube-burst/,
    );
  });
});
