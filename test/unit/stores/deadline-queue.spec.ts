import { DeadlineQueue } from '../../../lib/stores/redis/deadline-queue';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DeadlineQueue', () => {
  it('cuts off the operations that did not settle within the limit, oldest first', async () => {
    const queue = new DeadlineQueue(30);
    const expired: string[] = [];
    const a = queue.watch(() => expired.push('a'));
    queue.watch(() => expired.push('b'));
    await sleep(10);
    queue.watch(() => expired.push('c'));
    queue.settle(a);
    await sleep(60);
    expect(expired).toEqual(['b', 'c']);
    expect(queue.size).toBe(0);
  });

  it('does not cut off an operation before its own deadline', async () => {
    const queue = new DeadlineQueue(80);
    const expired: string[] = [];
    queue.watch(() => expired.push('first'));
    await sleep(50);
    queue.watch(() => expired.push('second'));
    await sleep(45); // the first is late, the second (watched 50 ms later) is not yet
    expect(expired).toEqual(['first']);
    await sleep(60);
    expect(expired).toEqual(['first', 'second']);
  });

  it('runs one timer for many operations, not one each', async () => {
    const queue = new DeadlineQueue(1000);
    const spy = jest.spyOn(global, 'setTimeout');
    try {
      const entries = Array.from({ length: 500 }, () => queue.watch(() => undefined));
      expect(spy).toHaveBeenCalledTimes(1);
      for (const entry of entries) queue.settle(entry);
      expect(queue.size).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('marks an expired operation settled before calling its handler, once', async () => {
    const queue = new DeadlineQueue(5);
    let calls = 0;
    const entry = queue.watch(() => {
      calls++;
      expect(entry.settled).toBe(true);
    });
    await sleep(30);
    queue.settle(entry); // a late answer after the cut-off changes nothing
    await sleep(10);
    expect(calls).toBe(1);
  });

  it('keeps cutting off the others when one handler throws (the error is rethrown apart)', async () => {
    const queue = new DeadlineQueue(5);
    const expired: number[] = [];
    // Hold back what is scheduled with nextTick meanwhile, to see the rethrow without crashing.
    const deferred: (() => void)[] = [];
    type Tick = (...args: unknown[]) => void;
    const spy = jest.spyOn(process, 'nextTick').mockImplementation(((
      fn: Tick,
      ...args: unknown[]
    ) => {
      deferred.push(() => fn(...args));
    }) as typeof process.nextTick);
    try {
      queue.watch(() => expired.push(1));
      queue.watch(() => {
        throw new Error('handler failed');
      });
      queue.watch(() => expired.push(3));
      await sleep(40);
    } finally {
      spy.mockRestore();
    }
    expect(expired).toEqual([1, 3]);
    const thrown: unknown[] = [];
    for (const run of deferred) {
      try {
        run();
      } catch (err) {
        thrown.push(err);
      }
    }
    expect(thrown.map((e) => (e as Error).message)).toEqual(['handler failed']);
  });

  it('compacts settled entries, and accepts new operations while expiring others', async () => {
    const queue = new DeadlineQueue(20);
    const entries = Array.from({ length: 3000 }, () => queue.watch(() => undefined));
    for (const entry of entries.slice(0, 2500)) queue.settle(entry);
    expect(queue.size).toBe(500);
    const expired: string[] = [];
    queue.watch(() => {
      expired.push('outer');
      queue.watch(() => expired.push('inner'));
    });
    await sleep(100);
    expect(expired).toEqual(['outer', 'inner']);
    expect(queue.size).toBe(0);
  });

  it('does not keep the process alive', () => {
    const queue = new DeadlineQueue(60_000);
    const spy = jest.spyOn(global, 'setTimeout');
    try {
      queue.watch(() => undefined);
      const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });
});
