/**
 * Group commit: writes that the database serializes anyway are queued here and written a batch
 * per transaction. While one transaction is in flight, the writes that arrive wait in memory,
 * not on a database lock, so a burst holds one connection and pays one commit per batch.
 */

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

/** Queues items and writes them in batches, one batch at a time. */
export class GroupCommit<I, O> {
  readonly #write: (items: readonly I[]) => Promise<O[]>;
  readonly #maxBatch: number;
  #queue: Pending<I, O>[] = [];
  #running: Promise<void> | undefined;

  /**
   * @param write - writes a batch in one transaction and returns one result per item, in order.
   *   If it throws, every item of the batch is rejected with that error.
   * @param maxBatch - the most items written by one call of `write`.
   */
  constructor(write: (items: readonly I[]) => Promise<O[]>, maxBatch = 256) {
    // Zero would make every batch empty and the drain loop endless.
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    this.#write = write;
    this.#maxBatch = maxBatch;
  }

  /** Queues `item`; resolves with its result once the transaction that wrote it has committed. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#running ??= this.#drain();
    });
  }

  /** The drain in progress, if any: settles once the queue is empty. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }


  async #drain(): Promise<void> {
    // Starts after the current tick, so writes queued together share the first batch too.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        const results = await this.#write(batch.map((p) => p.item));
        if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} wrote ${results.length}`);
        results.forEach((result, i) => batch[i]?.resolve(result));
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.#running = undefined;
  }
}
