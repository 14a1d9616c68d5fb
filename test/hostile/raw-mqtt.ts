/**
 * MQTT 3.1.1 over a raw socket, for the oversized-packet case: a PUBLISH whose fixed header
 * announces 100 MB, then its bytes streamed from one reused chunk until the broker closes the
 * connection (OASIS MQTT 3.1.1 §2.2.3: the remaining length is a variable byte integer up to
 * 268,435,455). mqtt.js would build the whole packet in memory first.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let value = length;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}

function utf8Field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function connectPacket(username: string, password: string): Buffer {
  const variable = Buffer.concat([
    utf8Field('MQTT'),
    Buffer.from([4, 0x80 | 0x40 | 0x02]), // level 4; username, password, clean session
    Buffer.from([0, 60]), // keep alive 60 s
  ]);
  const payload = Buffer.concat([
    utf8Field(`hostile-raw-${randomBytes(4).toString('hex')}`),
    utf8Field(username),
    utf8Field(password),
  ]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

export interface OversizedPublishResult {
  /** CONNACK return code (0 accepted). */
  connack: number;
  /** Payload bytes written before the broker closed the connection (or all of them). */
  sentBytes: number;
  /** The broker closed the connection before the announced packet was complete. */
  closedEarly: boolean;
  ms: number;
}

/**
 * Logs in, then sends a PUBLISH (retained, QoS 0) to `topic` announcing `announcedBytes` of
 * payload and streams them in 64 kB chunks, stopping when the broker closes the socket.
 */
export async function oversizedPublish(options: {
  url: string;
  username: string;
  password: string;
  topic: string;
  announcedBytes: number;
  timeoutMs?: number;
}): Promise<OversizedPublishResult> {
  const { hostname, port } = new URL(options.url);
  const started = performance.now();
  const socket: Socket = connect({ host: hostname, port: Number(port) });
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closedPromise.then(() => {
    closed = true;
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(connectPacket(options.username, options.password));
  // TCP is a byte stream: the 4 bytes of the CONNACK (§3.2) may arrive in several chunks.
  const connack = await new Promise<number>((resolve) => {
    let received = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (received.length < 4) return;
      socket.off('data', onData);
      resolve(received[0] === 0x20 ? (received[3] as number) : 255);
    };
    socket.on('data', onData);
    void closedPromise.then(() => resolve(255));
  });
  if (connack !== 0) {
    socket.destroy();
    return { connack, sentBytes: 0, closedEarly: true, ms: performance.now() - started };
  }
  const topic = utf8Field(options.topic);
  socket.write(
    Buffer.concat([Buffer.from([0x31]), remainingLength(topic.length + options.announcedBytes), topic]),
  );
  const chunk = Buffer.alloc(64 * 1024, 0x7b);
  let sent = 0;
  const deadline = started + (options.timeoutMs ?? 30_000);
  while (!closed && sent < options.announcedBytes && performance.now() < deadline) {
    const piece = Math.min(chunk.length, options.announcedBytes - sent);
    sent += piece;
    if (!socket.write(piece === chunk.length ? chunk : chunk.subarray(0, piece))) {
      await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closedPromise]);
    }
  }
  const closedEarly = closed && sent < options.announcedBytes;
  socket.destroy();
  return { connack, sentBytes: sent, closedEarly, ms: performance.now() - started };
}
