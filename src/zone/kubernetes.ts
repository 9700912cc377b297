// Answers the cluster zone (and the reverse names of cluster addresses) from the index, as the
// Kubernetes DNS-Based Service Discovery spec 1.1.0 says, with CoreDNS's `kubernetes` plugin
// filling the gaps. Every reply is built once and kept as encoded bytes (prepared.ts), so a
// repeated question costs one Map lookup, before the name is even parsed (parse.ts). A prepared
// reply stays good until the part of the index it was read from changes (its Scope): the names
// under one namespace depend on that namespace alone, so a change there leaves the rest of the
// cluster's answers prepared.
import type { ClusterIndex, Scope } from '../index/index.ts';
import type { PodRecord } from '../objects/pod.ts';
import type { ServiceRecord } from '../objects/service.ts';
import { RCODE, TYPE } from '../dns/constants.ts';
import type { Handler, Query, Reply } from '../dns/message.ts';
import { encodeReply, type ResourceRecord, type Sections } from '../dns/writer.ts';
import { REVERSE_V4, REVERSE_V6, dashedIP, isV6 } from './names.ts';
import { type ClusterName, namespaceOf, parseName } from './parse.ts';
import { PreparedReplies } from './prepared.ts';

export type PodMode = 'disabled' | 'insecure' | 'verified';
export const POD_MODES: readonly PodMode[] = ['disabled', 'insecure', 'verified'];

export const SCHEMA_VERSION = '1.1.0';
const SCHEMA_VERSION_TTL = 28800;

export interface KubernetesZoneOptions {
  readonly index: ClusterIndex;
  /** Cluster domain, lower-case, no trailing dot. */
  readonly zone: string;
  readonly ttl: number;
  readonly pods: PodMode;
  /** CoreDNS's `fallthrough`: an NXDOMAIN for a name in these zones ('.': all) is not ours to answer. */
  readonly fallthrough?: readonly string[];
  /** CoreDNS's `ignore empty_service`: a ClusterIP Service without ready endpoints does not exist. */
  readonly ignoreEmptyService?: boolean;
  /** Most prepared replies kept before the cache starts over (bounds memory under random names). */
  readonly maxPrepared?: number;
}

/** What a name holds for one question type; `null` answer means the name does not exist. */
interface Found {
  readonly answer: ResourceRecord[];
  readonly additional?: ResourceRecord[];
  /** An ExternalName: the name is an alias for this target. */
  readonly alias?: string;
}
type Lookup = Found | null;

const NODATA: Found = { answer: [] };
/** Marks a reverse name we hold nothing for: the next handler (upstream) may know it. */
const FALLTHROUGH = 'fallthrough';
const MAX_ALIAS_CHAIN = 8;
/** For answers that read nothing from the index (unknown names under the zone, dns-version). */
const CONSTANT: Scope = Object.freeze({ gen: 0 });

interface Endpoint {
  readonly address: string;
  /** The endpoint's hostname, or its dashed IP. */
  readonly label: string;
}

export class KubernetesZone implements Handler {
  readonly name = 'kubernetes';
  readonly #index: ClusterIndex;
  readonly #zone: string;
  readonly #dotZone: string;
  readonly #ttl: number;
  readonly #pods: PodMode;
  readonly #ignoreEmptyService: boolean;
  readonly #fallthrough: readonly string[];
  readonly #prepared: PreparedReplies;
  /** Set while building an answer that followed an alias to another name of the zone. */
  #readOtherNames = false;

  constructor(options: KubernetesZoneOptions) {
    this.#index = options.index;
    this.#zone = options.zone;
    this.#dotZone = `.${options.zone}`;
    this.#ttl = options.ttl;
    this.#pods = options.pods;
    this.#ignoreEmptyService = options.ignoreEmptyService ?? false;
    this.#fallthrough = options.fallthrough ?? [];
    this.#prepared = new PreparedReplies(options.maxPrepared ?? 100_000);
  }

  /** True for names this handler is the authority for or may hold (reverse names). */
  covers(name: string): boolean {
    return name === this.#zone || name.endsWith(this.#dotZone) || name.endsWith(`.${REVERSE_V4}`) || name.endsWith(`.${REVERSE_V6}`);
  }

  serve(query: Query): Reply | null {
    const name = query.name;
    if (!this.covers(name)) return null;
    const type = query.type;
    const prepared = this.#prepared.get(name, type, this.#index.epoch);
    if (prepared !== undefined) return prepared;
    // Building is synchronous: the index cannot change between reading the scope and the answer.
    const parsed = parseName(name, this.#zone);
    let scope = this.#scopeOf(parsed);
    this.#readOtherNames = false;
    const sections = this.#sections(name, parsed, type);
    const reply = sections && encodeReply(name, sections);
    if (this.#readOtherNames) scope = this.#index.everything;
    this.#prepared.set(name, type, reply, scope);
    return reply;
  }

  /**
   * What a name's answer is read from. Names under `<ns>.svc` and `<ns>.pod` read that
   * namespace's objects and whether it exists; unknown names under the zone read nothing; the
   * rest (the apex, ns.dns, reverse names) may read anything. The SOA of a negative answer
   * carries the serial of when that answer was built.
   */
  #scopeOf(parsed: ClusterName): Scope {
    const namespace = namespaceOf(parsed);
    if (namespace !== null) return this.#index.hasNamespace(namespace) ? this.#index.namespaceScope(namespace) : this.#index.namespaces;
    switch (parsed.kind) {
      case 'branch': // svc.<zone>, pod.<zone>: empty non-terminals
      case 'dns-version':
        return CONSTANT;
      case 'invalid':
        return parsed.branch === 'dns' ? this.#index.everything : CONSTANT;
      default:
        return this.#index.everything; // the apex, dns and ns.dns, reverse names
    }
  }

  /** Builds the reply for a question without the cache; null when the name is not ours to answer. */
  answer(name: string, type: number): Reply | null {
    const sections = this.sections(name, type);
    return sections && encodeReply(name, sections);
  }

  sections(name: string, type: number): Sections | null {
    return this.#sections(name, parseName(name, this.#zone), type);
  }

  #sections(name: string, parsed: ClusterName, type: number): Sections | null {
    const sections = this.#answerSections(name, parsed, type);
    if (this.#fallthrough.length > 0 && sections?.rcode === RCODE.NXDOMAIN && this.#fallsThrough(name)) return null;
    return sections;
  }

  #fallsThrough(name: string): boolean {
    return this.#fallthrough.some((zone) => zone === '.' || name === zone || name.endsWith(`.${zone}`));
  }

  #answerSections(name: string, parsed: ClusterName, type: number): Sections | null {
    const lookupType = type === TYPE.ANY ? TYPE.A : type;
    let found: Lookup | typeof FALLTHROUGH;
    let apex = this.#zone;
    switch (parsed.kind) {
      case 'outside':
        return null;
      case 'reverse':
        found = this.#reverse(name, parsed.ip, lookupType);
        apex = isV6(parsed.ip) ? REVERSE_V6 : REVERSE_V4;
        break;
      case 'reverse-network':
        // A partial name above a cluster address (a ClusterIP or an EndpointSlice address, ready
        // or not): an empty non-terminal of ours; above nothing of ours it passes on.
        found = this.#index.hasAddressIn(parsed.address, parsed.octets) ? NODATA : FALLTHROUGH;
        apex = REVERSE_V4;
        break;
      case 'reverse-network-v6':
        found = this.#index.hasV6AddressIn(parsed.prefix) ? NODATA : FALLTHROUGH;
        apex = REVERSE_V6;
        break;
      default:
        found = this.#lookup(name, parsed, lookupType);
    }
    if (found === FALLTHROUGH) return null;
    if (found === null) {
      // Before the first full sync a miss may only mean "not seen yet" (CoreDNS does the same).
      if (!this.#index.synced) return this.#reply(RCODE.SERVFAIL, [], [], []);
      return this.#reply(RCODE.NXDOMAIN, [], [this.#soa(apex)], []);
    }
    if (type === TYPE.ANY) {
      // RFC 8482: a minimal answer instead of everything the name has.
      return this.#reply(RCODE.NOERROR, [{ name, type: TYPE.HINFO, ttl: this.#ttl, cpu: 'RFC8482', os: '' }], [], []);
    }
    if (found.alias !== undefined) return this.#alias(name, type, found.alias, apex);
    if (found.answer.length === 0) return this.#reply(RCODE.NOERROR, [], [this.#soa(apex)], []);
    return this.#reply(RCODE.NOERROR, found.answer, [], found.additional ?? []);
  }

  #reply(rcode: number, answer: ResourceRecord[], authority: ResourceRecord[], additional: ResourceRecord[]): Sections {
    return { rcode, authoritative: rcode !== RCODE.SERVFAIL, answer, authority, additional };
  }

  /** A CNAME, followed through the zone as far as it stays in the zone. */
  #alias(name: string, type: number, target: string, apex: string): Sections {
    const answer: ResourceRecord[] = [{ name, type: TYPE.CNAME, ttl: this.#ttl, target }];
    if (type === TYPE.CNAME) return this.#reply(RCODE.NOERROR, answer, [], []);
    let current = target;
    for (let hop = 0; hop < MAX_ALIAS_CHAIN; hop++) {
      if (current !== this.#zone && !current.endsWith(this.#dotZone)) {
        // Outside the zone: the forwarder, when there is one, chases the rest upstream.
        return { ...this.#reply(RCODE.NOERROR, answer, [], []), chase: current };
      }
      this.#readOtherNames = true;
      const next = this.#lookup(current, parseName(current, this.#zone), type);
      if (next === null) return this.#reply(RCODE.NXDOMAIN, answer, [this.#soa(apex)], []);
      if (next.alias === undefined) {
        answer.push(...next.answer);
        break;
      }
      answer.push({ name: current, type: TYPE.CNAME, ttl: this.#ttl, target: next.alias });
      current = next.alias;
    }
    return this.#reply(RCODE.NOERROR, answer, [], []);
  }

  #soa(apex: string): ResourceRecord {
    return {
      name: apex,
      type: TYPE.SOA,
      ttl: Math.min(this.#ttl, 300),
      mname: `ns.dns.${this.#zone}`,
      rname: `hostmaster.${this.#zone}`,
      serial: this.#index.lastChange,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: this.#ttl,
    };
  }

  // ---- forward names ----

  #lookup(name: string, parsed: ClusterName, type: number): Lookup {
    switch (parsed.kind) {
      case 'apex':
        return this.#apex(type);
      case 'branch':
      case 'dns': // empty non-terminals: svc, pod, and the one above ns.dns
        return NODATA;
      case 'namespace':
        return this.#index.hasNamespace(parsed.namespace) ? NODATA : null;
      case 'service':
      case 'endpoint':
      case 'srv':
        return this.#serviceName(name, parsed, type);
      case 'pod':
        return this.#podName(parsed, type);
      case 'dns-version':
        return type === TYPE.TXT ? { answer: [{ name, type: TYPE.TXT, ttl: SCHEMA_VERSION_TTL, text: [SCHEMA_VERSION] }] } : NODATA;
      case 'nameserver':
        return this.#addresses(name, this.#nameserverAddresses(), type);
      default:
        return null;
    }
  }

  #apex(type: number): Lookup {
    if (type === TYPE.SOA) return { answer: [this.#soa(this.#zone)] };
    if (type === TYPE.NS) {
      const ns = `ns.dns.${this.#zone}`;
      const glue = this.#addresses(ns, this.#nameserverAddresses(), TYPE.A)?.answer ?? [];
      const glue6 = this.#addresses(ns, this.#nameserverAddresses(), TYPE.AAAA)?.answer ?? [];
      return { answer: [{ name: this.#zone, type: TYPE.NS, ttl: this.#ttl, target: ns }], additional: [...glue, ...glue6] };
    }
    return NODATA;
  }

  /** The addresses of the Service that fronts the cluster DNS (kube-system/kube-dns), for NS glue. */
  #nameserverAddresses(): readonly string[] {
    return this.#index.service('kube-system', 'kube-dns')?.clusterIPs ?? [];
  }

  /** A service's name and the names below it. */
  #serviceName(name: string, parsed: Extract<ClusterName, { kind: 'service' | 'endpoint' | 'srv' }>, type: number): Lookup {
    const namespace = parsed.namespace;
    if (!this.#index.hasNamespace(namespace)) return null;
    const service = this.#index.service(namespace, parsed.service);
    if (!service) return null;
    if (this.#ignoreEmptyService && service.kind === 'ClusterIP' && this.#readyEndpoints(service).length === 0) return null;
    const fqdn = `${service.name}.${namespace}.svc.${this.#zone}`;
    switch (parsed.kind) {
      case 'service':
        return this.#service(service, fqdn, type);
      case 'endpoint':
        // Not an endpoint: `_tcp.<svc>` is an empty non-terminal above `_<port>._tcp.<svc>`.
        return this.#endpointName(service, fqdn, parsed.endpoint, type) ?? (this.#hasPorts(service, parsed.protocol) ? NODATA : null);
      case 'srv':
        return this.#servicePort(name, service, fqdn, parsed.port, parsed.protocol, type);
    }
  }

  #service(service: ServiceRecord, fqdn: string, type: number): Lookup {
    switch (service.kind) {
      case 'ExternalName':
        return { answer: [], alias: service.externalName };
      case 'ClusterIP': {
        if (type === TYPE.SRV) return this.#srvToService(service, fqdn, service.ports);
        return this.#addresses(fqdn, service.clusterIPs, type);
      }
      case 'Headless': {
        const endpoints = this.#readyEndpoints(service);
        // Spec §2.4.1: no ready endpoints → NXDOMAIN; unless a pod's hostname.subdomain answers
        // below it, which makes the service's name an empty non-terminal.
        if (endpoints.length === 0) return this.#podHostnames(service).length > 0 ? NODATA : null;
        if (type === TYPE.SRV) return this.#srvToEndpoints(service, fqdn, '', '');
        return this.#addresses(fqdn, unique(endpoints.map((e) => e.address)), type);
      }
    }
  }

  /** `<endpoint>.<service>.<ns>.svc.<zone>`: an endpoint's hostname or dashed IP (CoreDNS also for ClusterIP services). */
  #endpointName(service: ServiceRecord, fqdn: string, label: string, type: number): Lookup {
    if (service.kind === 'ExternalName') return null;
    const addresses: string[] = [];
    for (const ep of this.#readyEndpoints(service)) if (ep.label === label) addresses.push(ep.address);
    if (service.kind === 'Headless') {
      // A pod's hostname.subdomain answers whether or not the EndpointSlice carries the hostname.
      for (const pod of this.#podHostnames(service)) if (pod.hostname === label) addresses.push(...pod.ips);
    }
    if (addresses.length === 0) return null;
    return this.#addresses(`${label}.${fqdn}`, unique(addresses), type);
  }

  /** The pods whose `hostname.subdomain` names answer under a headless service. */
  #podHostnames(service: ServiceRecord): PodRecord[] {
    const out: PodRecord[] = [];
    for (const pod of this.#index.podsBySubdomain(service.namespace, service.name)) {
      if (pod.ready || service.publishNotReadyAddresses) out.push(pod);
    }
    return out;
  }

  /**
   * Whether `_<any port>._<protocol>.<service>` answers SRV (`_` and '' match any): exactly then
   * `_<protocol>.<service>` has names below it.
   */
  #hasPorts(service: ServiceRecord, protocol: string): boolean {
    if (service.kind === 'ClusterIP') return service.ports.some((p) => portMatches(p, '', protocol));
    if (service.kind !== 'Headless') return false;
    for (const slice of this.#index.slicesOf(service.namespace, service.name)) {
      if (!slice.ports.some((p) => portMatches(p, '', protocol))) continue;
      for (const ep of slice.endpoints) if ((ep.ready || service.publishNotReadyAddresses) && ep.addresses.length > 0) return true;
    }
    return false;
  }

  /** `_<port>._<proto>.<service>.<ns>.svc.<zone>` SRV. */
  #servicePort(owner: string, service: ServiceRecord, fqdn: string, port: string, protocol: string, type: number): Lookup {
    let found: Found;
    if (service.kind === 'ClusterIP') {
      const ports = service.ports.filter((p) => portMatches(p, port, protocol));
      if (ports.length === 0) return null;
      found = this.#srvToService(service, fqdn, ports);
    } else if (service.kind === 'Headless') {
      found = this.#srvToEndpoints(service, fqdn, port, protocol);
      if (found.answer.length === 0) return null;
    } else {
      return null;
    }
    if (type !== TYPE.SRV) return NODATA;
    return { answer: found.answer.map((rr) => ({ ...rr, name: owner })), additional: found.additional ?? [] };
  }

  #srvToService(service: ServiceRecord, fqdn: string, ports: ServiceRecord['ports']): Found {
    if (ports.length === 0) return NODATA;
    const weight = srvWeight(ports.length);
    const answer: ResourceRecord[] = ports.map((p) => ({
      name: fqdn,
      type: TYPE.SRV,
      ttl: this.#ttl,
      priority: 0,
      weight,
      port: p.port,
      target: fqdn,
    }));
    const additional = service.clusterIPs.map((ip) => this.#addressRecord(fqdn, ip));
    return { answer, additional };
  }

  /** One SRV per (ready endpoint × matching port), target `<endpoint>.<service>…`, N × M as the spec says. */
  #srvToEndpoints(service: ServiceRecord, fqdn: string, port: string, protocol: string): Found {
    const targets = new Map<string, string[]>(); // target name → addresses
    const entries: { target: string; port: number }[] = [];
    const seen = new Set<string>();
    for (const slice of this.#index.slicesOf(service.namespace, service.name)) {
      const ports = slice.ports.filter((p) => portMatches(p, port, protocol));
      if (ports.length === 0) continue;
      for (const ep of slice.endpoints) {
        if (!ep.ready && !service.publishNotReadyAddresses) continue;
        for (const address of ep.addresses) {
          const target = `${ep.hostname || dashedIP(address)}.${fqdn}`;
          const list = targets.get(target);
          if (list) {
            if (!list.includes(address)) list.push(address);
          } else targets.set(target, [address]);
          for (const p of ports) {
            const key = `${target}|${p.port}`;
            if (seen.has(key)) continue;
            seen.add(key);
            entries.push({ target, port: p.port });
          }
        }
      }
    }
    const weight = srvWeight(entries.length);
    const answer: ResourceRecord[] = entries.map((e) => ({
      name: fqdn,
      type: TYPE.SRV,
      ttl: this.#ttl,
      priority: 0,
      weight,
      port: e.port,
      target: e.target,
    }));
    const additional: ResourceRecord[] = [];
    for (const [target, addresses] of targets) for (const a of addresses) additional.push(this.#addressRecord(target, a));
    return { answer, additional };
  }

  #readyEndpoints(service: ServiceRecord): Endpoint[] {
    const out: Endpoint[] = [];
    for (const slice of this.#index.slicesOf(service.namespace, service.name)) {
      for (const ep of slice.endpoints) {
        if (!ep.ready && !service.publishNotReadyAddresses) continue;
        for (const address of ep.addresses) out.push({ address, label: ep.hostname || dashedIP(address) });
      }
    }
    return out;
  }

  /** `<dashed-ip>.<ns>.pod.<zone>` per `--pods`. */
  #podName(parsed: Extract<ClusterName, { kind: 'pod' }>, type: number): Lookup {
    const { namespace, label, ip } = parsed;
    if (!this.#index.hasNamespace(namespace)) return null;
    if (this.#pods === 'disabled' || ip === null) return null;
    if (this.#pods === 'verified' && !this.#index.hasPodIP(namespace, ip)) return null;
    return this.#addresses(`${label}.${namespace}.pod.${this.#zone}`, [ip], type);
  }

  // ---- reverse names ----

  /** A full reverse name, `ip`'s. */
  #reverse(name: string, ip: string, type: number): Found | typeof FALLTHROUGH {
    const targets: string[] = [];
    // A ClusterIP match wins over endpoints (CoreDNS).
    for (const svc of this.#index.servicesByClusterIP(ip)) targets.push(`${svc.name}.${svc.namespace}.svc.${this.#zone}`);
    if (targets.length === 0) {
      for (const slice of this.#index.slicesByAddress(ip)) {
        const service = this.#index.service(slice.namespace, slice.service);
        if (!service || service.kind === 'ExternalName') continue;
        for (const ep of slice.endpoints) {
          if (!ep.addresses.includes(ip) || (!ep.ready && !service.publishNotReadyAddresses)) continue;
          targets.push(`${ep.hostname || dashedIP(ip)}.${service.name}.${service.namespace}.svc.${this.#zone}`);
        }
      }
    }
    if (targets.length === 0) return FALLTHROUGH;
    if (type !== TYPE.PTR) return NODATA;
    return { answer: unique(targets).map((target) => ({ name, type: TYPE.PTR, ttl: this.#ttl, target })) };
  }

  // ---- records ----

  #addresses(owner: string, ips: readonly string[], type: number): Found {
    if (type !== TYPE.A && type !== TYPE.AAAA) return NODATA;
    const wantV6 = type === TYPE.AAAA;
    const answer: ResourceRecord[] = [];
    for (const ip of ips) if (isV6(ip) === wantV6) answer.push({ name: owner, type, ttl: this.#ttl, address: ip });
    return { answer };
  }

  #addressRecord(owner: string, ip: string): ResourceRecord {
    return { name: owner, type: isV6(ip) ? TYPE.AAAA : TYPE.A, ttl: this.#ttl, address: ip };
  }
}

/** RFC 2782 weights as CoreDNS sets them: every record gets floor(100 / N). */
function srvWeight(n: number): number {
  return Math.floor(100 / Math.max(n, 1));
}

/** An empty port or protocol label (`_`) matches any, as in CoreDNS. */
function portMatches(p: { name: string; protocol: string }, port: string, protocol: string): boolean {
  return (port === '' || (p.name !== '' && p.name === port)) && (protocol === '' || p.protocol === protocol);
}

function unique<T>(items: T[]): T[] {
  return items.length < 2 ? items : [...new Set(items)];
}
