// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): 2-byte length framing, several queries in flight per
// connection, replies written as each completes (they carry the query ID, so order is free).
import net from 'node:net';
import type { QueryProcessor, ServerContext, ServerStats } from './processor.ts';
import { ConnectionSlots, type Slot } from './slots.ts';

export interface TcpOptions {
  /** Close a connection with nothing read or written for this long. */
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  /** Concurrent connections one source address may hold (default: maxConnections). */
  readonly maxConnectionsPerClient?: number;
  /**
   * The slots to take connections from; shared by every listener of the process, so that the
   * caps hold across --listen addresses (default: this listener's own).
   */
  readonly slots?: ConnectionSlots;
  /** Unanswered queries per connection before reading pauses. */
  readonly maxInFlight: number;
  /**
   * A frame must arrive whole within this long of its first byte (default: idleTimeoutMs). The
   * idle timer alone restarts on every byte, so a client trickling one byte at a time
   * (slowloris) could otherwise hold a connection forever.
   */
  readonly readTimeoutMs?: number;
  /** This address's index among the listen addresses (the metrics' `server` label). */
  readonly listener?: number;
  /** Share the port with other processes (--workers); the kernel spreads the connections. */
  readonly reusePort?: boolean;
}

export interface TcpListener {
  readonly server: net.Server;
  close(): Promise<void>;
}

class Connection {
  #socket: net.Socket;
  #slots: ConnectionSlots;
  #slot: Slot;
  #processor: QueryProcessor;
  #stats: ServerStats;
  #options: TcpOptions;
  #context: ServerContext;
  /** Bytes of an incomplete frame, or complete frames held back at the in-flight limit. */
  #pending: Buffer | null = null;
  #inFlight = 0;
  #writeBlocked = false;
  #paused = false;
  /** The peer has finished sending: answer what is buffered, then end. */
  #peerEnded = false;
  /** Nothing more is read or answered; the socket ends once in-flight replies are written. */
  #closing = false;
  #ended = false;
  #lingerTimer: NodeJS.Timeout | null = null;
  #frameTimer: NodeJS.Timeout | null = null;

  constructor(socket: net.Socket, processor: QueryProcessor, options: TcpOptions, slots: ConnectionSlots, slot: Slot) {
    this.#socket = socket;
    this.#slots = slots;
    this.#slot = slot;
    slot.owner = this;
    this.#processor = processor;
    this.#stats = processor.stats;
    this.#options = options;
    this.#context = {
      protocol: 'tcp',
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      listener: options.listener ?? 0,
    };
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => {
      this.#peerEnded = true;
      this.#drain();
    });
    socket.on('timeout', () => {
      this.#stats.tcpIdleTimeouts++;
      if (this.#inFlight === 0 || this.#closing) socket.destroy();
      else this.#closeAfterPending();
    });
    socket.on('drain', () => {
      this.#writeBlocked = false;
      // Frames held back while the peer was not reading are answered now.
      this.#drain();
    });
    socket.on('error', () => {
      // Resets and write failures end this connection only.
      this.#stats.tcpErrors++;
      socket.destroy();
    });
    socket.on('close', () => {
      slots.release(slot);
      if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
      this.#clearFrameTimer();
      this.#pending = null;
      this.#closing = true;
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** The pool is full and this is its longest-idle connection: closed to admit a newcomer. */
  evict(): void {
    this.#stats.tcpIdleEvictions++;
    this.#closing = true;
    this.#pending = null;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return;
    this.#pending = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#drain();
  }

  /** Answers every complete frame in #pending, as far as the in-flight limit allows. */
  #drain(): void {
    const buf = this.#pending;
    if (buf !== null && !this.#closing) {
      const socket = this.#socket;
      let off = 0;
      // Coalesce the synchronous replies to one chunk's frames into a single write.
      socket.cork();
      try {
        // Bounded: every turn consumes at least 3 bytes of buf or leaves the loop. A peer that does
        // not read its replies stops the loop: one chunk of small queries for a large answer would
        // otherwise queue thousands of replies (tens of MB per connection) in our write buffer.
        while (!this.#closing && !this.#writeBlocked && this.#inFlight < this.#options.maxInFlight && buf.length - off >= 2) {
          const size = buf.readUInt16BE(off);
          if (size === 0) {
            this.#badFrame();
            break;
          }
          if (buf.length - off - 2 < size) break;
          const frame = buf.subarray(off + 2, off + 2 + size);
          off += 2 + size;
          this.#answer(frame);
        }
      } finally {
        socket.uncork();
      }
      if (this.#closing) this.#pending = null;
      else this.#pending = off === buf.length ? null : off === 0 ? buf : buf.subarray(off);
      this.#watchFrame(off > 0);
      // Queries read: the most recently active connection now, or busy until its answers are in.
      if (off > 0) {
        if (this.#inFlight > 0) this.#slots.busy(this.#slot);
        else this.#slots.touch(this.#slot);
      }
    }
    // Whatever is left once the peer has finished can never complete (unless it is whole frames
    // held back until the peer reads what we wrote: those are answered on 'drain').
    if (this.#peerEnded && this.#inFlight === 0 && !this.#writeBlocked) this.#closeAfterPending();
    else this.#flow();
  }

  /** Starts the clock on an incomplete frame; `progressed`: a frame completed, so a new clock. */
  #watchFrame(progressed: boolean): void {
    // Frames held back for the in-flight limit or a peer not reading are not a slow sender's; a
    // peer that never reads is closed by the idle timeout instead.
    const incomplete = this.#pending !== null && !this.#closing && !this.#writeBlocked && this.#inFlight < this.#options.maxInFlight;
    if (!incomplete || progressed) this.#clearFrameTimer();
    if (!incomplete || this.#frameTimer !== null) return;
    this.#frameTimer = setTimeout(() => {
      this.#frameTimer = null;
      this.#stats.tcpReadTimeouts++;
      this.#closeAfterPending();
    }, this.#options.readTimeoutMs ?? this.#options.idleTimeoutMs);
    this.#frameTimer.unref();
  }

  #clearFrameTimer(): void {
    if (this.#frameTimer !== null) clearTimeout(this.#frameTimer);
    this.#frameTimer = null;
  }

  #answer(frame: Buffer): void {
    const out = this.#processor.process(frame, this.#context);
    if (out === null) {
      this.#badFrame();
      return;
    }
    if (!(out instanceof Promise)) {
      this.#write(out);
      return;
    }
    this.#inFlight++;
    out.then(
      (reply) => this.#settled(reply),
      () => this.#settled(null),
    );
  }

  #settled(reply: Buffer | null): void {
    this.#inFlight--;
    if (reply !== null) this.#write(reply);
    else this.#badFrame();
    if (this.#inFlight === 0) this.#slots.touch(this.#slot);
    if (this.#closing) {
      if (this.#inFlight === 0) this.#end();
    } else {
      this.#drain();
    }
  }

  #write(reply: Buffer): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    const framed = Buffer.allocUnsafe(reply.length + 2);
    framed.writeUInt16BE(reply.length, 0);
    reply.copy(framed, 2);
    if (!socket.write(framed)) this.#writeBlocked = true;
  }

  /** A zero-length frame or one we will not answer: this client is not speaking DNS to us. */
  #badFrame(): void {
    if (this.#closing) return;
    this.#stats.tcpBadFrames++;
    this.#closeAfterPending();
  }

  #closeAfterPending(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#pending = null;
    if (this.#inFlight === 0) this.#end();
  }

  #end(): void {
    const socket = this.#socket;
    if (this.#ended || socket.destroyed) return;
    this.#ended = true;
    socket.end();
    // A peer that never closes its side must not hold the socket open forever.
    this.#lingerTimer = setTimeout(() => socket.destroy(), this.#options.idleTimeoutMs);
    this.#lingerTimer.unref();
  }

  /** Reading pauses while the peer is not reading our replies or too many queries are open. */
  #flow(): void {
    if (this.#closing) return;
    const socket = this.#socket;
    const stop = this.#writeBlocked || this.#inFlight >= this.#options.maxInFlight;
    if (stop && !this.#paused) {
      this.#paused = true;
      socket.pause();
    } else if (!stop && this.#paused) {
      this.#paused = false;
      socket.resume();
    }
  }
}

/** Listens on `host:port` and serves DNS over TCP through `processor`. */
export function startTcp(host: string, port: number, processor: QueryProcessor, options: TcpOptions): Promise<TcpListener> {
  const stats = processor.stats;
  const slots = options.slots ?? new ConnectionSlots(options.maxConnections, options.maxConnectionsPerClient ?? options.maxConnections);
  const connections = new Set<Connection>();
  // allowHalfOpen: a client may shut down its sending side after its last query and still expect
  // the answers to queries that are still being resolved.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true });
  server.on('connection', (socket) => {
    const slot = slots.take(socket.remoteAddress ?? '');
    if (slot === 'client_limit' || slot === 'full') {
      if (slot === 'client_limit') stats.tcpClientLimited++;
      else stats.tcpRejected++;
      socket.destroy();
      return;
    }
    stats.tcpConnections++;
    const connection = new Connection(socket, processor, options, slots, slot);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });

  return new Promise((resolve, reject) => {
    const onListenError = (err: Error): void => {
      server.close();
      reject(err);
    };
    server.once('error', onListenError);
    server.listen({ host, port, exclusive: true, reusePort: options.reusePort ?? false }, () => {
      server.off('error', onListenError);
      // Accept errors (EMFILE and the like) must not take the process down.
      server.on('error', () => {
        stats.tcpErrors++;
      });
      let closed: Promise<void> | null = null;
      resolve({
        server,
        close: () => {
          closed ??= new Promise((done) => {
            server.close(() => done());
            for (const connection of connections) connection.destroy();
          });
          return closed;
        },
      });
    });
  });
}
