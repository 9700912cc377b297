// Ports, as Services and EndpointSlices both list them (ServicePort and discovery/v1 EndpointPort
// read alike). What repeats across objects is shared: port names and protocols, and whole port
// lists (a Service and its slices, and most Services of a cluster, list the same few ports).
import { fail, isObject, optionalList, optionalString } from './check.ts';
import { NONE } from './meta.ts';
import type { WireReader } from './wire.ts';

export interface PortRecord {
  /** Lower-cased port name; '' for an unnamed port (no `_port._proto` SRV for it). */
  readonly name: string;
  /** Lower-cased protocol: 'tcp', 'udp' or 'sctp'. */
  readonly protocol: string;
  readonly port: number;
}

/** A port as the API object has it. */
export interface PortObject {
  name?: string;
  protocol?: string;
  port?: number;
}

/** Bounded: what is seen after the cap is kept as is, unshared. */
const MAX_SHARED = 4096;

/** Shared copies of port names and protocols. */
const shared = new Map<string, string>();
function share(text: string): string {
  const known = shared.get(text);
  if (known !== undefined) return known;
  if (shared.size < MAX_SHARED) shared.set(text, text);
  return text;
}

/** Shared port lists, frozen (records are never changed, only replaced), by their contents. */
const sharedPorts = new Map<string, readonly PortRecord[]>();

export function ports(list: readonly PortObject[] | null | undefined): readonly PortRecord[] {
  if (!list) return NONE;
  const out: PortRecord[] = [];
  let key = '';
  for (const p of list) {
    if (typeof p.port !== 'number') continue;
    const port: PortRecord = Object.freeze({
      name: share((p.name ?? '').toLowerCase()),
      protocol: share((p.protocol ?? 'TCP').toLowerCase()),
      port: p.port,
    });
    out.push(port);
    key += `${port.name}/${port.protocol}/${port.port} `;
  }
  if (out.length === 0) return NONE;
  const known = sharedPorts.get(key);
  if (known !== undefined) return known;
  const frozen = Object.freeze(out.slice());
  if (sharedPorts.size < MAX_SHARED) sharedPorts.set(key, frozen);
  return frozen;
}

/** The ports as the API object has them (toObject). */
export function portObjects(list: readonly PortRecord[]): PortObject[] {
  return list.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port }));
}

export function checkPorts(where: string, value: unknown, field: string, portRequired: boolean): void {
  optionalList(where, value, field).forEach((p, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(p)) fail(where, `${at} must be an object`);
    optionalString(where, p.name, `${at}.name`);
    optionalString(where, p.protocol, `${at}.protocol`);
    const port = p.port;
    if ((port !== undefined && port !== null) || portRequired) {
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
        fail(where, `${at}.port must be a number from 1 to 65535`);
    }
  });
}

/** ServicePort and discovery/v1 EndpointPort alike: name = 1, protocol = 2, port = 3. */
export function readPort(r: WireReader): PortObject {
  const outer = r.enter();
  const port: PortObject = {};
  for (let field = r.next(); field !== 0; field = r.next()) {
    if (field === 1) port.name = r.string();
    else if (field === 2) port.protocol = r.string();
    else if (field === 3) port.port = r.int32();
    else r.skip();
  }
  r.leave(outer);
  return port;
}
