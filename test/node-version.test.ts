import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NODE_FLOOR, unsupportedNode } from '../src/node-version.ts';

const rows: [version: string, runs: boolean, why: string][] = [
  ['v20.20.2', false, "a fresh machine's Node: no registerHooks, no type stripping"],
  ['v22.14.0', false, 'no module.registerHooks (22.15)'],
  ['v22.17.1', false, 'registerHooks, but .ts files need a flag (type stripping is on from 22.18)'],
  ['v22.18.0', true, 'the floor: the whole suite passes on it'],
  ['v23.5.0', false, 'registerHooks, no type stripping by default (23.6)'],
  ['v23.6.0', true, 'both'],
  ['v24.11.0', true, 'the LTS the image runs'],
  ['v25.2.1', true, 'newer'],
  ['24.21.0', true, 'process.versions.node has no v'],
];
for (const [version, runs, why] of rows) {
  test(`Node ${version}: ${runs ? 'runs' : 'refused'} (${why})`, () => {
    const problem = unsupportedNode(version);
    if (runs) {
      assert.equal(problem, null);
    } else {
      assert.equal(
        problem,
        `cluster-dns needs Node.js >= ${NODE_FLOOR} (this is ${version}): run it through npm scripts or node_modules/.bin/node`,
      );
    }
  });
}

test('this Node runs it', () => assert.equal(unsupportedNode(process.versions.node), null));
