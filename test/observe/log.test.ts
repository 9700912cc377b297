import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, rateLimitedLog } from '../../src/observe/log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('rateLimitedLog', () => {
  it('lets a burst of repeats through per window, then says how many it left out', () => {
    const { lines, logger } = capture();
    let t = 0;
    let suppressed = 0;
    const log = rateLimitedLog(logger, { windowMs: 1000, burst: 2, now: () => t, onSuppressed: (n) => (suppressed += n) });
    for (let i = 0; i < 10; i++) log('error', 'upstream', { to: '10.0.0.53:53' }, 'upstream failed');
    log('warn', 'other', {}, 'another kind');
    assert.equal(lines.filter((l) => l.msg === 'upstream failed').length, 2);
    assert.equal(lines.filter((l) => l.msg === 'another kind').length, 1, 'keys are limited separately');
    assert.equal(suppressed, 8);
    t = 1000;
    log('error', 'upstream', { to: '10.0.0.53:53' }, 'upstream failed');
    const last = lines.at(-1);
    assert.equal(last?.msg, 'upstream failed');
    assert.equal(last?.suppressed, 8);
    assert.equal(last?.level, 50);
  });
});
