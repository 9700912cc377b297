import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BindError, isSystemError } from '../../src/server/bind-error.ts';

const errno = (code: string, message = `bind ${code}`) => Object.assign(new Error(message), { code, syscall: 'bind' });

const rows: [flag: string, host: string, port: number, code: string, line: string, why: string][] = [
  ['--listen', '127.0.0.1', 53, 'EADDRINUSE', '--listen 127.0.0.1:53: address already in use', 'a clash names the flag and the address'],
  [
    '--listen',
    '0.0.0.0',
    53,
    'EACCES',
    '--listen 0.0.0.0:53: permission denied: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability',
    'a privileged port says what it takes',
  ],
  [
    '--metrics',
    '::1',
    9153,
    'EACCES',
    '--metrics [::1]:9153: permission denied',
    'above 1024 the port is not the reason (a seccomp or LSM policy)',
  ],
  [
    '--health',
    '192.0.2.1',
    8080,
    'EADDRNOTAVAIL',
    '--health 192.0.2.1:8080: address not available: it is not an address of this machine',
    'a typo in the address',
  ],
  ['--listen', '::1', 53, 'EAFNOSUPPORT', '--listen [::1]:53: address family not supported on this machine', 'no IPv6'],
  ['--ready', '127.0.0.1', 8181, 'EMFILE', '--ready 127.0.0.1:8181: bind EMFILE', 'anything else keeps the system message'],
];
for (const [flag, host, port, code, line, why] of rows) {
  test(`${code} on ${flag}: ${why}`, () => {
    const err = new BindError({ host, port }, errno(code)).forFlag(flag);
    assert.equal(err.message, line);
    assert.deepEqual([err.code, err.errno, err.flag, err.address], ['CDNS_ERR_BIND', code, flag, { host, port }]);
  });
}

test('without a flag the line starts at the address; only system errors are worded', () => {
  assert.equal(new BindError({ host: '127.0.0.1', port: 1 }, errno('EADDRINUSE')).message, '127.0.0.1:1: address already in use');
  assert.equal(isSystemError(errno('EADDRINUSE')), true);
  assert.equal(isSystemError(new TypeError('open: port')), false);
  assert.equal(isSystemError(null), false);
});
