import type { IncomingMessage } from 'node:http';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { ConnectionOptions, TLSSocket } from 'node:tls';

/** Stream and session failures of HTTP/2 that mean "the connection went", as ECONNRESET does for HTTP/1.1. */
export const HTTP2_CONNECTION_LOST = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_STREAM_CANCEL']);

/** What session.request throws (Node 20) when the session can take no new stream; Node 24 fails the stream instead, before it has an id. */
const SESSION_CLOSING = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_OUT_OF_STREAMS']);

/** RST_STREAM's REFUSED_STREAM (RFC 9113 8.7); nghttp2 also closes with it the streams a GOAWAY left unprocessed. */
const REFUSED_STREAM = 7;

/**
 * A request the server refused before processing it (or a closing session never sent): safe to
 * send again whatever its method (RFC 9113 8.7), as Go's HTTP/2 transport does. The API server
 * sends a GOAWAY after answering an anonymous request over HTTP/2 (its rapid-reset mitigation,
 * CVE-2023-44487), which refuses the run's other streams in flight on that connection.
 */
export function refusedUnprocessed(err: unknown): boolean {
  return (err as { unprocessed?: boolean } | undefined)?.unprocessed === true;
}

/**
 * HTTP/2 to the API server, as kubectl talks to it: one TLS connection per client certificate that
 * carries every request and watch of the run as streams. Without it each concurrent request opens
 * its own connection (TCP and TLS: two round trips before its first byte), which on a far server
 * is most of the time before the PATCH. The connection is opened as soon as a request is on its
 * way, while the credential plugin still runs. A server that does not offer h2 (ALPN) gets
 * HTTP/1.1 from then on (h1Only).
 */
export class Http2Sessions {
  /** The server chose HTTP/1.1: the caller's agent carries everything. */
  h1Only = false;
  /** Connections opened (each a TCP and a TLS handshake). */
  connections = 0;
  private readonly sessions = new Map<unknown, Promise<ClientHttp2Session | undefined>>();
  private readonly live = new Map<unknown, ClientHttp2Session>();
  private active = 0;

  constructor(
    private readonly url: URL,
    private readonly tls: ConnectionOptions,
    private readonly connectTimeoutMs: number,
    /** Called with each exchange's time to the answer's headers. */
    private readonly onRoundTrip: (ms: number) => void,
    /** Called with each new connection's time from its first packet to TLS established. */
    private readonly onHandshake: (ms: number) => void = () => undefined,
  ) {}

  /** The session for this client certificate (none: undefined), connecting it when needed; undefined when the server speaks HTTP/1.1 only. */
  session(cert: string | Buffer | undefined, key: string | Buffer | undefined): Promise<ClientHttp2Session | undefined> {
    // A session that is closing (a GOAWAY, a lost connection) takes no new streams.
    const live = this.live.get(cert);
    if (live && (live.closed || live.destroyed)) this.forget(cert, this.sessions.get(cert));
    let pending = this.sessions.get(cert);
    if (!pending) {
      const p = this.connect(cert, key);
      pending = p;
      p.then((s) => (s ? (this.live.set(cert, s), s.once('close', () => this.forget(cert, p)).once('goaway', () => this.forget(cert, p))) : this.forget(cert, p)), () => this.forget(cert, p));
      this.sessions.set(cert, p);
    }
    return pending;
  }

  /** One exchange as a stream; resolves with it dressed as an IncomingMessage (statusCode, headers, headersDistinct) once its headers came. */
  request(session: ClientHttp2Session, method: string, path: string, headers: Record<string, string | string[]>, body: Buffer | undefined, signal: AbortSignal | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const sent = performance.now();
      // HTTP/2 has no Content-Length need and forbids connection headers; names go lower case.
      const h2: Record<string, string | string[]> = { ':method': method, ':path': path };
      for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'content-length') h2[k.toLowerCase()] = v;
      let stream: ClientHttp2Stream;
      try {
        stream = session.request(h2, { signal, endStream: !body });
      } catch (err) {
        // A session that is closing sent nothing of it; a bad header fails the same way every time.
        return reject(SESSION_CLOSING.has((err as NodeJS.ErrnoException).code ?? '') ? Object.assign(err as Error, { unprocessed: true }) : err);
      }
      // A session with streams keeps the process alive; an idle one does not (as an idle keep-alive socket).
      if (this.active++ === 0) session.ref();
      stream.once('close', () => --this.active === 0 && !session.destroyed && session.unref());
      // Refused by the server, or failed before it had a stream id (a session that was closing): unsent.
      const failed = (err: Error) => reject(stream.rstCode === REFUSED_STREAM || stream.pending ? Object.assign(err, { unprocessed: true }) : err);
      stream.once('error', failed);
      stream.once('response', (h: IncomingHttpHeaders, _flags: number, raw?: string[]) => {
        stream.off('error', failed);
        this.onRoundTrip(performance.now() - sent);
        resolve(asIncomingMessage(stream, h, raw ?? []));
      });
      if (body) stream.end(body);
    });
  }

  private forget(cert: unknown, pending: Promise<ClientHttp2Session | undefined> | undefined): void {
    if (!pending || this.sessions.get(cert) !== pending) return;
    this.sessions.delete(cert);
    this.live.delete(cert);
  }

  /** Closes every session (streams still open end). */
  close(): void {
    for (const pending of this.sessions.values()) void pending.then((s) => s?.destroy(), () => undefined);
    this.sessions.clear();
    this.live.clear();
  }

  private async connect(cert: string | Buffer | undefined, key: string | Buffer | undefined): Promise<ClientHttp2Session | undefined> {
    const [{ connect: tlsConnect }, { connect: h2Connect }] = await Promise.all([import('node:tls'), import('node:http2')]);
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const started = performance.now();
    const socket: TLSSocket = tlsConnect({ ...this.tls, ...(cert ? { cert, key } : {}), host, port: Number(this.url.port || 443), ALPNProtocols: ['h2', 'http/1.1'] });
    this.connections++;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), this.connectTimeoutMs);
      socket.once('secureConnect', () => (clearTimeout(timer), this.onHandshake(performance.now() - started), resolve()));
      socket.once('error', (err) => (clearTimeout(timer), reject(err)));
    });
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy();
      this.h1Only = true;
      return undefined;
    }
    const session = h2Connect(this.url.origin, { createConnection: () => socket });
    // Failures reach the streams that were open; a session that failed is replaced by the next request.
    session.on('error', () => undefined);
    session.unref();
    return session;
  }
}

// What the transport reads of an answer: status, headers, each header's values apart (Warning
// values hold commas), and the body as a readable stream.
function asIncomingMessage(stream: ClientHttp2Stream, headers: IncomingHttpHeaders, raw: string[]): IncomingMessage {
  const distinct: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i]!.startsWith(':')) (distinct[raw[i]!.toLowerCase()] ??= []).push(raw[i + 1]!);
  return Object.assign(stream, { statusCode: Number(headers[':status']), headers, headersDistinct: distinct }) as unknown as IncomingMessage;
}
