import { WorkQueue } from './WorkQueue';

describe('WorkQueue', () => {
  it('never runs the same key twice at once, and reruns a key added while it ran', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    let release: () => void = () => undefined;
    const firstStarted = new Promise<void>(resolve => {
      release = resolve;
    });
    let finishFirst: () => void = () => undefined;
    const gate = new Promise<void>(resolve => {
      finishFirst = resolve;
    });
    const done = new Promise<void>(resolve => {
      const queue = new WorkQueue(
        async () => {
          calls++;
          active++;
          maxActive = Math.max(maxActive, active);
          if (calls === 1) {
            release();
            await gate;
          }
          active--;
          if (calls === 2) resolve();
          return {};
        },
        () => undefined,
      );
      queue.start();
      queue.add('ns/a');
      firstStarted.then(() => {
        queue.add('ns/a');
        queue.add('ns/a');
        finishFirst();
      });
    });
    await done;
    expect(calls).toBe(2);
    expect(maxActive).toBe(1);
  });
});
