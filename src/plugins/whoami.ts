// CoreDNS's `whoami`: every query is answered with where it came from, in the additional
// section: the client's address (A, or AAAA) under the asked name, and `_udp.NAME` (or `_tcp`)
// SRV with its port. TTL 0, authoritative, no answer records. Used as a health check.
import { isIPv4 } from 'node:net';
import { unmappedIPv4 } from '../base/address.ts';
import { RCODE, TYPE } from '../dns/constants.ts';
import type { Handler, Query, Reply, RequestContext } from '../dns/message.ts';
import { writeReply, type ResourceRecord } from '../dns/writer.ts';

export class WhoamiHandler implements Handler {
  readonly name = 'whoami';

  serve(query: Query, context: RequestContext): Reply {
    const address = unmappedIPv4(context.remoteAddress);
    const where: ResourceRecord = isIPv4(address)
      ? { name: query.name, type: TYPE.A, ttl: 0, address }
      : { name: query.name, type: TYPE.AAAA, ttl: 0, address };
    const proto = `_${context.protocol}`;
    const port: ResourceRecord = {
      name: query.name === '' ? proto : `${proto}.${query.name}`,
      type: TYPE.SRV,
      ttl: 0,
      priority: 0,
      weight: 0,
      port: context.remotePort ?? 0,
      target: '',
    };
    return writeReply(query.name, { rcode: RCODE.NOERROR, authoritative: true }, [], [], [where, port]);
  }
}
