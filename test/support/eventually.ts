// Polls until a probe's value is what a test waits for, bounded in time (a reload, a log line).
import assert from 'node:assert/strict';

/** The first value of `probe` that `ok` accepts, probing every 100 ms; fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) {
      assert.ok(ok(v), `${what} within ${timeoutMs} ms`);
      return v;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
