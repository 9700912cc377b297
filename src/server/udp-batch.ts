// DNS over UDP through native/udp-batch.node: one recvmmsg fills up to BATCH slots, one call
// answers them all, one sendmmsg sends the replies. Same contract as the node:dgram listener in
// udp.ts (which startUdp falls back to without the addon): one datagram in, at most one back to
// where it came from.
import { createRequire } from 'node:module';
import type { QueryProcessor } from './processor.ts';
import type { BusyPoll } from './busy-poll.ts';

/** What native/udp-batch.c exports. The handle is an opaque native pointer. */
export interface UdpBatchAddon {
  readonly SLOT: number;
  readonly MAX_BATCH: number;
  open(
    host: string,
    port: number,
    reusePort: boolean,
    receiveBuffer: number,
    batch: number,
    inbox: Buffer,
    meta: Int32Array,
    addrText: Buffer,
    addrRaw: Buffer,
    outbox: Buffer,
    outMeta: Int32Array,
    onBatch: (count: number) => void,
  ): UdpBatchHandle;
  port(handle: UdpBatchHandle): number;
  /** False when the kernel refused the send or the socket is closed. */
  send(handle: UdpBatchHandle, reply: Buffer, address: Buffer, offset: number): boolean;
  /** Stops receiving at once; `onClosed` runs once the descriptor is closed (the port is free). */
  close(handle: UdpBatchHandle, onClosed: () => void): void;
}
declare const handleBrand: unique symbol;
export type UdpBatchHandle = { readonly [handleBrand]: true };

/** Datagrams per recvmmsg. More only helps under a flood, which a batch of 32 already drains. */
export const BATCH = 32;
/**
 * Per slot in `meta`: [length (-1: cut short by the kernel), length of the sender's text,
 * 1 when the sender is IPv4 (or IPv4-mapped), its four octets as an int32].
 */
const META = 4;
/** Sender texts kept per socket, by IPv4 address: pods ask again and again from the same few. */
const SENDER_CACHE = 4096;
const ADDR_TEXT = 64;
const ADDR_RAW = 32;
/** Replies of one batch, packed; one that does not fit goes out on its own. */
const OUTBOX = 64 * 1024;

let loaded: UdpBatchAddon | null | undefined;

/** The addon, or null when it is not built or cannot load. src/ and dist/ sit at the same depth. */
export function loadUdpBatch(path = new URL('../../native/udp-batch.node', import.meta.url).pathname): UdpBatchAddon | null {
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<UdpBatchAddon>;
    return typeof addon.open === 'function' && typeof addon.send === 'function' ? (addon as UdpBatchAddon) : null;
  } catch {
    return null;
  }
}

/** loadUdpBatch() of the default path, once per process. */
export function udpBatchAddon(): UdpBatchAddon | null {
  if (loaded === undefined) loaded = loadUdpBatch();
  return loaded;
}

export interface UdpBatchOptions {
  readonly listener: number;
  readonly receiveBuffer: number;
  readonly reusePort: boolean;
  readonly busyPoll: BusyPoll | null;
}

export interface UdpBatchSocket {
  readonly port: number;
  /** Resolves once the port is free again; every call gets the same promise. */
  close(): Promise<void>;
}

/** Binds and starts answering; throws as node:dgram's bind would (err.code 'EADDRINUSE', ...). */
export function openUdpBatch(
  addon: UdpBatchAddon,
  host: string,
  port: number,
  processor: QueryProcessor,
  options: UdpBatchOptions,
): UdpBatchSocket {
  const { listener, busyPoll } = options;
  const stats = processor.stats;
  const slot = addon.SLOT;
  // 2 MiB of address space, but only the pages datagrams land in become resident: not zeroed.
  const inbox = Buffer.allocUnsafeSlow(BATCH * slot);
  const meta = new Int32Array(BATCH * META);
  const addrText = Buffer.alloc(BATCH * ADDR_TEXT);
  const addrRaw = Buffer.alloc(BATCH * ADDR_RAW);
  const outbox = Buffer.alloc(OUTBOX);
  // After the per-slot pairs, the addon counts failed sends and failed receives. Its sends come
  // after onBatch returns, so they are moved into stats by the next batch, or by a reader's
  // settle() when no batch comes.
  const outMeta = new Int32Array(BATCH * 2 + 2);
  const harvestErrors = (): void => {
    const sendErrors = outMeta[BATCH * 2] as number;
    const receiveErrors = outMeta[BATCH * 2 + 1] as number;
    if (sendErrors !== 0) {
      stats.udpSendErrors += sendErrors;
      outMeta[BATCH * 2] = 0;
    }
    if (receiveErrors !== 0) {
      stats.udpReceiveErrors += receiveErrors;
      outMeta[BATCH * 2 + 1] = 0;
    }
  };
  const forgetHarvest = stats.countedElsewhere(harvestErrors);

  let handle: UdpBatchHandle | null = null;
  const sendAlone = (reply: Buffer, address: Buffer, offset: number): void => {
    // A reply that resolves after close() has no socket left to go out on.
    if (handle === null || !addon.send(handle, reply, address, offset)) stats.udpSendErrors++;
  };
  const sendLater = (reply: Buffer | null, address: Buffer): void => {
    if (reply !== null) sendAlone(reply, address, 0);
  };
  // process() never rejects; this only keeps a broken promise from going unhandled.
  const failed = (): void => {
    stats.udpSendErrors++;
  };

  const senderText = (slot: number): string => {
    const at = slot * ADDR_TEXT;
    return addrText.toString('latin1', at, at + (meta[slot * META + 1] as number));
  };
  const senders = new Map<number, string>();
  const ipv4Sender = (slot: number): string => {
    const key = meta[slot * META + 3] as number;
    let text = senders.get(key);
    if (text === undefined) {
      // Wholesale, not LRU: past this many distinct clients a cache of them helps little anyway.
      if (senders.size >= SENDER_CACHE) senders.clear();
      text = senderText(slot);
      senders.set(key, text);
    }
    return text;
  };

  const onBatch = (count: number): void => {
    if (busyPoll !== null) busyPoll.touch();
    harvestErrors();
    let used = 0;
    for (let i = 0; i < count; i++) {
      const length = meta[i * META] as number;
      if (length < 0) {
        // Cut short by the kernel (a slot holds the largest UDP payload, so only a jumbogram):
        // unreadable, like a runt.
        stats.received++;
        stats.udp++;
        stats.droppedShort++;
        continue;
      }
      // A copy: the processor may hold the query past this call (an upstream answer), and the
      // slot is refilled by the next batch.
      const msg = Buffer.allocUnsafe(length);
      inbox.copy(msg, 0, i * slot, i * slot + length);
      const remoteAddress = meta[i * META + 2] === 1 ? ipv4Sender(i) : senderText(i);
      // sockaddr_in and sockaddr_in6 both hold the port at offset 2, in network order.
      const remotePort = addrRaw.readUInt16BE(i * ADDR_RAW + 2);
      const out = processor.process(msg, { protocol: 'udp', remoteAddress, remotePort, listener });
      if (out === null) continue;
      if (out instanceof Promise) {
        // The sender's address outlives the batch: a copy of its 32 bytes.
        const address = Buffer.allocUnsafe(ADDR_RAW);
        addrRaw.copy(address, 0, i * ADDR_RAW, (i + 1) * ADDR_RAW);
        out.then((reply) => sendLater(reply, address), failed);
        continue;
      }
      if (out.length <= OUTBOX - used) {
        out.copy(outbox, used);
        outMeta[i * 2] = used;
        outMeta[i * 2 + 1] = out.length;
        used += out.length;
      } else {
        sendAlone(out, addrRaw, i * ADDR_RAW);
      }
    }
  };

  handle = addon.open(
    host,
    port,
    options.reusePort,
    options.receiveBuffer,
    BATCH,
    inbox,
    meta,
    addrText,
    addrRaw,
    outbox,
    outMeta,
    onBatch,
  );
  const open = handle;
  const boundPort = addon.port(open);
  let closed: Promise<void> | null = null;
  return {
    port: boundPort,
    close: () => {
      closed ??= new Promise((done) => {
        handle = null;
        harvestErrors();
        forgetHarvest();
        addon.close(open, done);
      });
      return closed;
    },
  };
}
