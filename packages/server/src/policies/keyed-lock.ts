/**
 * Runs work one at a time per key (here: per host), in this process. A run takes all its keys at
 * once, synchronously, so two runs over overlapping key sets can never wait on each other in a
 * cycle. Other replicas are kept apart by compare-and-set writes, not by this lock.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const before = unique.map((k) => this.tails.get(k));
    let release: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const k of unique) this.tails.set(k, mine);
    try {
      await Promise.all(before);
      return await work();
    } finally {
      release();
      for (const k of unique) if (this.tails.get(k) === mine) this.tails.delete(k);
    }
  }
}
