/** A FIFO async mutex: `run` waits for every earlier holder. Not reentrant. */
export class Lock {
  private tail: Promise<unknown> = Promise.resolve()

  async run<T> (fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn)
    this.tail = result.catch(() => undefined)
    return await result
  }
}
