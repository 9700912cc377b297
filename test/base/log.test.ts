import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, formatTextLine, rateLimitedLog } from '../../src/base/log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', { destination: stream }) };
}

function rawCapture(format: 'json' | 'text', level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  return { lines, logger: createLogger(level, { format, destination: stream }) };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('log formats', () => {
  it('json: level names and ISO times, one object a line', () => {
    const { lines, logger } = rawCapture('json');
    logger.child({ component: 'kubernetes', kind: 'Pod' }).warn({ items: 3 }, 'sync in progress');
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.level, 'warn');
    assert.match(String(line.time), ISO);
    assert.ok(Math.abs(Date.parse(String(line.time)) - Date.now()) < 60_000, 'the time is now');
    assert.deepEqual(
      { ...line, time: 0 },
      { level: 'warn', time: 0, service: 'cluster-dns', component: 'kubernetes', kind: 'Pod', items: 3, msg: 'sync in progress' },
    );
  });

  it('text: ISO time, level name, [component], message, then key=value', () => {
    const { lines, logger } = rawCapture('text', 'debug');
    logger.info({ version: '0.1.0', listen: ['127.0.0.1:1053', '[::1]:1053'], upstreams: [] }, 'starting');
    logger.child({ component: 'kubernetes', kind: 'Pod' }).info({ items: 1200, pages: 3, ms: 5004 }, 'sync in progress');
    logger.debug({ config: { zone: 'cluster.local' } }, 'config');
    logger.error({ err: new Error('connect ECONNREFUSED 127.0.0.1:6443') }, 'list/watch failed; retrying');
    logger.info(
      {
        dns: [
          { host: '127.0.0.1', port: 1053 },
          { host: '::1', port: 1053 },
        ],
        health: null,
        path: '/a b',
      },
      'serving',
    );
    assert.equal(lines.length, 5);
    const parts = lines.map((l) => /^(\S+) (\S+) +(.*)$/.exec(l));
    for (const [i, p] of parts.entries()) {
      assert.ok(p, lines[i]);
      assert.match(p[1]!, ISO, lines[i]);
    }
    assert.deepEqual(
      parts.map((p) => [p![2], p![3]]),
      [
        ['INFO', 'starting version=0.1.0 listen=127.0.0.1:1053,[::1]:1053 upstreams=[]'],
        ['INFO', '[kubernetes] sync in progress kind=Pod items=1200 pages=3 ms=5004'],
        ['DEBUG', 'config config={"zone":"cluster.local"}'],
        ['ERROR', 'list/watch failed; retrying err="connect ECONNREFUSED 127.0.0.1:6443"'],
        ['INFO', 'serving dns=127.0.0.1:1053,[::1]:1053 health=null path="/a b"'],
      ],
    );
    assert.ok(
      lines.every((l) => !l.includes('service=')),
      'the constant service field is left out',
    );
  });

  it('text: a line that is not JSON passes through', () => {
    assert.equal(formatTextLine('not json\n'), 'not json\n');
  });
});

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
    assert.equal(last?.level, 'error');
  });
});
