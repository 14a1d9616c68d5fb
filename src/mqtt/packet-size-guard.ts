/**
 * A size limit on MQTT packets read from one connection, enforced on the byte stream BEFORE aedes
 * sees it. aedes 1.2 hands every byte to mqtt-packet's parser, which appends to a buffer list until
 * the whole packet has arrived and has no size limit (mqtt-packet 9 `Parser.parse`): a client that
 * announces a 100 MB PUBLISH gets 100 MB buffered. Here the fixed header is read as it streams
 * past; a packet whose total size (fixed header + remaining length, as MQTT 5 §3.1.2.11.4 counts
 * "Maximum Packet Size" and Mosquitto's `max_packet_size`) is over the limit closes the connection
 * as soon as its length is known, and none of its bytes reach the parser.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** What the scanner found in one chunk. */
export type ScanVerdict =
  | { ok: true }
  /**
   * `offset`: where in the chunk the refused packet starts (0 when its header began in an earlier
   * chunk); everything before it is whole packets under the limit. `bytes`: the packet's total size
   * as announced, or NaN when the remaining length is malformed (more than 4 bytes, §2.2.3).
   */
  | { ok: false; offset: number; bytes: number };

/**
 * Follows the MQTT framing (§2.2: one byte of type and flags, then the remaining length as 1 to 4
 * bytes of 7 bits, then that many bytes) across chunk boundaries, reading only headers: the cost is
 * constant per packet plus one addition per chunk.
 */
export class MqttFrameScanner {
  /** Bytes of the current packet's body still to skip. */
  private skip = 0;
  /** In a fixed header: bytes of it read so far (0 = none), and the remaining length so far. */
  private headerBytes = 0;
  private length = 0;
  private multiplier = 1;
  /** Where the current packet started in the chunk being scanned (0 if in an earlier chunk). */
  private packetStart = 0;

  constructor(public maxPacketBytes: number) {}

  scan(chunk: Uint8Array): ScanVerdict {
    let at = 0;
    this.packetStart = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, chunk.length - at);
        this.skip -= step;
        at += step;
        continue;
      }
      if (this.headerBytes === 0) {
        // The type and flags byte: a new packet starts here.
        this.packetStart = at;
        this.headerBytes = 1;
        this.length = 0;
        this.multiplier = 1;
        at++;
        continue;
      }
      const byte = chunk[at] as number;
      at++;
      this.headerBytes++;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (byte & 0x80) {
        // A fifth length byte is malformed (§2.2.3: at most four).
        if (this.headerBytes > 4) return { ok: false, offset: this.packetStart, bytes: Number.NaN };
        continue;
      }
      const total = this.headerBytes + this.length;
      if (total > this.maxPacketBytes) return { ok: false, offset: this.packetStart, bytes: total };
      this.skip = this.length;
      this.headerBytes = 0;
    }
    return { ok: true };
  }
}

export interface PacketSizeGuardOptions {
  maxPacketBytes: number;
  /** Called once, before the connection is closed. */
  onOversize: (bytes: number) => void;
}

/**
 * The socket as aedes sees it: reads pass through the scanner, writes go straight to the socket.
 * On an oversized packet the packets before it are still delivered, then the socket is destroyed
 * and nothing more is read.
 */
export class PacketSizeGuard extends Duplex {
  private readonly scanner: MqttFrameScanner;
  private refused = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: PacketSizeGuardOptions,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new MqttFrameScanner(options.maxPacketBytes);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
    socket.on('drain', () => this.emit('socketDrain'));
  }

  /** Lifts the limit for a trusted client (the bridge) once it has authenticated. */
  lift(): void {
    this.scanner.maxPacketBytes = Number.POSITIVE_INFINITY;
  }

  private receive(chunk: Buffer): void {
    if (this.refused) return;
    const verdict = this.scanner.scan(chunk);
    if (verdict.ok) {
      if (!this.push(chunk)) this.socket.pause();
      return;
    }
    this.refused = true;
    if (verdict.offset > 0) this.push(chunk.subarray(0, verdict.offset));
    this.options.onOversize(verdict.bytes);
    // Stop reading now; close once aedes has had the whole packets before this one (it reads on
    // 'readable', emitted on the next tick).
    this.socket.pause();
    setImmediate(() => {
      this.socket.destroy();
      this.destroy();
    });
  }

  override _read(): void {
    if (!this.refused) this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.socket.destroyed) {
      done(new Error('connection closed'));
      return;
    }
    // Acknowledged at once, unless the socket's buffer is full: then after its 'drain', so that
    // the guard's own 'drain' (which aedes waits for) follows the socket's.
    if (this.socket.write(chunk)) done();
    else this.once('socketDrain', () => done());
  }

  /**
   * mqtt-packet's `writeToStream` corks the stream and writes a packet as several small pieces
   * (header, length, topic, payload): without this, uncorking hands them to `_write` one by one
   * and each leaves as its own TCP segment, a CONNACK split in two and every PUBLISH delayed by
   * Nagle's algorithm waiting on the peer's delayed ACK. Corking the socket sends them together,
   * as aedes does on a bare socket.
   */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    done: (error?: Error | null) => void,
  ): void {
    if (this.socket.destroyed) {
      done(new Error('connection closed'));
      return;
    }
    this.socket.cork();
    let flowing = true;
    for (const { chunk } of chunks) flowing = this.socket.write(chunk);
    this.socket.uncork();
    if (flowing) done();
    else this.once('socketDrain', () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.socket.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.socket.destroy();
    done(error);
  }
}
