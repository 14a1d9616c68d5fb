/**
 * A small HTTP client over node:http for the attacks, where fetch cannot do what is needed:
 * stream a request body from a generator with back-pressure and stop at the first byte of the
 * answer (a 200 MB body is never allocated), choose the source address (127.0.0.x, so that the
 * throttling cases, which count per remote address, never block the rest of the suite), and
 * time the answer.
 */
import { request } from 'node:http';

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A whole body, or chunks streamed as they are produced (chunked transfer, no Content-Length). */
  body?: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Source address of the connection (any 127.0.0.0/8 address reaches a loopback server). */
  localAddress?: string;
  /** The request is abandoned after this long (the answer then has status 0). Default 30 s. */
  timeoutMs?: number;
  /** Only this many bytes of the answer are kept as text (the length is always counted). */
  keepBytes?: number;
}

export interface SendResult {
  /** 0 when no answer came (timeout, connection closed). */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Length of the whole answer body. */
  bodyBytes: number;
  /** Bytes of the request body written before the answer or the end. */
  sentBytes: number;
  /** From the request to the end of the answer. */
  ms: number;
  /** Set when the request failed (reset, timeout). */
  error?: string;
}

export function send(url: string, options: SendOptions = {}): Promise<SendResult> {
  const started = performance.now();
  const keep = options.keepBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve) => {
    let sentBytes = 0;
    let answered = false;
    let settled = false;
    const finish = (result: Omit<SendResult, 'ms' | 'sentBytes'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, sentBytes, ms: performance.now() - started });
    };
    const streamed =
      options.body !== undefined && typeof options.body !== 'string' && !(options.body instanceof Uint8Array);
    const req = request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({
        status: 0,
        headers: {},
        text: '',
        bodyBytes: 0,
        error: `no answer within ${options.timeoutMs ?? 30_000} ms`,
      });
    }, options.timeoutMs ?? 30_000);
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let kept = 0;
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (kept < keep) {
          chunks.push(chunk.subarray(0, keep - kept));
          kept += Math.min(chunk.length, keep - kept);
        }
      });
      const done = () => {
        finish({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          bodyBytes: total,
        });
        // The rest of a streamed body is never sent: drop the connection.
        if (streamed) req.destroy();
      };
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    req.on('error', (error) => {
      if (!answered) finish({ status: 0, headers: {}, text: '', bodyBytes: 0, error: error.message });
    });

    if (options.body === undefined) {
      req.end();
    } else if (!streamed) {
      const body = options.body as string | Uint8Array;
      sentBytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      req.end(body);
    } else {
      void (async () => {
        try {
          for await (const chunk of options.body as AsyncIterable<Uint8Array>) {
            if (answered || settled || req.destroyed) return;
            sentBytes += chunk.length;
            if (!req.write(chunk)) {
              await new Promise<void>((drained) => {
                const go = () => {
                  req.off('drain', go);
                  req.off('close', go);
                  req.off('response', go);
                  drained();
                };
                req.once('drain', go);
                req.once('close', go);
                req.once('response', go);
              });
            }
          }
          if (!answered && !req.destroyed) req.end();
        } catch {
          req.destroy();
        }
      })();
    }
  });
}

/** `count` bytes in chunks of one reused buffer: the bytes are never all in memory. */
export function* repeatedBytes(count: number, chunk: Uint8Array): Generator<Uint8Array> {
  let left = count;
  while (left > 0) {
    const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
    left -= piece.length;
    yield piece;
  }
}
