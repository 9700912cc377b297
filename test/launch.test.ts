// The memory settings main.ts re-executes with: what is added for which start, what the user's
// own flags and variables keep, and the heap size for a memory limit. (test/e2e/launch.test.ts
// checks the real re-execution.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { heapMiB, launchPlan, memoryLimit, MEMORY_ENV, parseBytes, SEMI_SPACE_FLAG, type LaunchInput } from '../src/launch.ts';
import { imageRuntime } from '../bench/image.ts';

const NO_LIMIT = 2 ** 64;
const plain: LaunchInput = { argv: ['--manifests', 'x.yaml'], execArgv: [], env: { PATH: '/bin' }, constrained: NO_LIMIT };

const rows: { why: string; input: Partial<LaunchInput>; flags: string[] | null; env?: Record<string, string | undefined> }[] = [
  {
    why: 'plain `node dist/main.js`: the image flags and malloc settings',
    input: {},
    flags: ['--max-semi-space-size=2'],
    env: { PATH: '/bin', MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '131072', CLUSTER_DNS_TUNED: '1' },
  },
  {
    why: 'the image (flags in ENTRYPOINT, ENV set), no cgroup limit: nothing to do',
    input: { execArgv: ['--max-semi-space-size=2'], env: { MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '131072' } },
    flags: null,
  },
  {
    why: 'the image in a pod with a 384Mi limit: the heap sized to it',
    input: {
      execArgv: ['--max-semi-space-size=2'],
      env: { MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '131072' },
      constrained: 384 * 1024 ** 2,
    },
    flags: ['--max-old-space-size=230'],
  },
  {
    why: '--memory-limit wins over the cgroup',
    input: { argv: ['--memory-limit', '1Gi'], constrained: 384 * 1024 ** 2 },
    flags: ['--max-semi-space-size=2', '--max-old-space-size=614'],
  },
  {
    why: '--memory-limit=V form, shared by --workers processes',
    input: { argv: ['--memory-limit=1Gi', '--workers', '2'] },
    flags: ['--max-semi-space-size=2', '--max-old-space-size=307'],
  },
  {
    why: "the user's flags win, with underscores too, and from NODE_OPTIONS",
    input: { execArgv: ['--max_semi_space_size=8'], env: { NODE_OPTIONS: '--max-old-space-size=900' }, constrained: 384 * 1024 ** 2 },
    flags: [],
  },
  {
    why: "the user's malloc variables win",
    input: { env: { MALLOC_ARENA_MAX: '4' } },
    flags: ['--max-semi-space-size=2'],
    env: { MALLOC_ARENA_MAX: '4', MALLOC_TRIM_THRESHOLD_: '131072', CLUSTER_DNS_TUNED: '1' },
  },
  { why: 'already re-executed (or asked not to)', input: { env: { CLUSTER_DNS_TUNED: '1' } }, flags: null },
  { why: 'started with an IPC channel, which exec would lose', input: { env: { NODE_CHANNEL_FD: '3' } }, flags: null },
  { why: '--help and --version start nothing', input: { argv: ['--version'] }, flags: null },
];

for (const row of rows) {
  test(`launch plan: ${row.why}`, () => {
    const plan = launchPlan({ ...plain, ...row.input, env: { ...(row.input.env ?? plain.env) } });
    if (row.flags === null) return assert.equal(plan, null);
    assert.ok(plan);
    assert.deepEqual(plan.flags, row.flags);
    if (row.env) assert.deepEqual(plan.env, row.env);
    assert.equal(plan.env.CLUSTER_DNS_TUNED, '1', 'the marker: never twice');
  });
}

test('the memory limit: --memory-limit, else the cgroup, else none; the heap a share of it per process', () => {
  assert.deepEqual(memoryLimit(['--memory-limit', '384Mi'], NO_LIMIT), { bytes: 384 * 1024 ** 2, from: '--memory-limit' });
  assert.deepEqual(memoryLimit([], 256 * 1024 ** 2), { bytes: 256 * 1024 ** 2, from: 'cgroup' });
  assert.equal(memoryLimit([], NO_LIMIT), null);
  assert.equal(memoryLimit([], 0), null);
  assert.equal(memoryLimit(['--memory-limit', 'lots'], 256 * 1024 ** 2), null, "a bad value is config.ts's to refuse");
  assert.equal(heapMiB(384 * 1024 ** 2, 1), 230);
  assert.equal(heapMiB(384 * 1024 ** 2, 4), 64, 'never below 64 MiB');
  assert.deepEqual(['262144', '256Ki', '4Mi', '1Gi', '4MB', '', '1.5Mi'].map(parseBytes), [
    262144,
    262144,
    4 * 1024 ** 2,
    1024 ** 3,
    Number.NaN,
    Number.NaN,
    Number.NaN,
  ]);
});

test("the image's ENTRYPOINT flags and ENV are the settings main.ts applies itself", () => {
  const image = imageRuntime(fileURLToPath(new URL('..', import.meta.url)));
  assert.deepEqual(image.nodeFlags, [SEMI_SPACE_FLAG]);
  assert.deepEqual(image.env, MEMORY_ENV);
});
