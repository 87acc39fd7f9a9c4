import type { CoreV1Api, CoreV1EventList } from '@kubernetes/client-node';
import { createLogger } from '../log';
import {
  EventRecorder,
  MAX_QUEUED_EVENTS,
  type ChaosEvent,
} from './kubeEvents';

type Sent = { reason: string; firstTimestamp: Date };

/** A CoreV1Api whose event creates wait until released, recording how many were in flight. */
function fakeCore() {
  const sent: Sent[] = [];
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const core = {
    createNamespacedEvent: async ({ body }: { body: Sent }) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>(resolve => waiting.push(resolve));
      inFlight--;
      if (body.reason === 'Fails') throw new Error('the API server said no');
      sent.push(body);
      return {} as CoreV1EventList;
    },
  } as unknown as CoreV1Api;
  /** Lets every create wait-listed so far, and every one they lead to, answer. */
  const releaseAll = async () => {
    while (waiting.length) {
      waiting.shift()!();
      await new Promise(resolve => setImmediate(resolve));
    }
  };
  return { core, sent, waiting, releaseAll, max: () => maxInFlight };
}

const event = (reason: string): ChaosEvent => ({
  regarding: { kind: 'Pod', name: 'p', namespace: 'ns' },
  type: 'Normal',
  reason,
  message: reason,
});

describe('EventRecorder', () => {
  const log = createLogger('silent');

  it('sends one event at a time, in the order they were emitted', async () => {
    const api = fakeCore();
    const recorder = new EventRecorder(api.core, log, 'test');
    for (const reason of ['a', 'b', 'c']) recorder.emit(event(reason));
    await new Promise(resolve => setImmediate(resolve));
    expect(api.waiting).toHaveLength(1);
    const flushed = recorder.flush();
    await api.releaseAll();
    await flushed;
    expect(api.sent.map(s => s.reason)).toEqual(['a', 'b', 'c']);
    expect(api.max()).toBe(1);
  });

  it('stamps each event with the time it was emitted, not the time it was sent', async () => {
    const api = fakeCore();
    const recorder = new EventRecorder(api.core, log, 'test');
    const before = Date.now();
    recorder.emit(event('a'));
    recorder.emit(event('b'));
    const after = Date.now();
    await new Promise(resolve => setTimeout(resolve, 30));
    const flushed = recorder.flush();
    await api.releaseAll();
    await flushed;
    for (const { firstTimestamp } of api.sent) {
      expect(firstTimestamp.getTime()).toBeGreaterThanOrEqual(before);
      expect(firstTimestamp.getTime()).toBeLessThanOrEqual(after);
    }
  });

  it('goes on after a failed send, and starts again once drained', async () => {
    const api = fakeCore();
    const recorder = new EventRecorder(api.core, log, 'test');
    recorder.emit(event('Fails'));
    recorder.emit(event('a'));
    let flushed = recorder.flush();
    await api.releaseAll();
    await flushed;
    recorder.emit(event('b'));
    flushed = recorder.flush();
    await api.releaseAll();
    await flushed;
    expect(api.sent.map(s => s.reason)).toEqual(['a', 'b']);
  });

  it(`drops what comes past ${MAX_QUEUED_EVENTS} waiting`, async () => {
    const api = fakeCore();
    const recorder = new EventRecorder(api.core, log, 'test');
    recorder.emit(event('first'));
    await new Promise(resolve => setImmediate(resolve));
    // 'first' is in flight; the queue takes MAX_QUEUED_EVENTS more.
    for (let i = 0; i < MAX_QUEUED_EVENTS + 5; i++)
      recorder.emit(event(`e${i}`));
    const flushed = recorder.flush();
    await api.releaseAll();
    await flushed;
    expect(api.sent).toHaveLength(1 + MAX_QUEUED_EVENTS);
    expect(api.sent.at(-1)!.reason).toBe(`e${MAX_QUEUED_EVENTS - 1}`);
  });
});
