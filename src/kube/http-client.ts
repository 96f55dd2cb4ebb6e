// node:https and node:http load only for HTTP/1.1 (a proxy, an upgrade, a server without h2): on
// the HTTP/2 path they would cost start-up time for nothing.
import type { RequestOptions } from 'node:https';
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { checkServerIdentity, getCACertificates, type ConnectionOptions } from 'node:tls';
import { PluginError } from '../errors/plugin-error.js';
import { ApiError, type KubeStatus } from './api-error.js';
import type { CredentialSource } from './credentials.js';
import type { KubeTarget } from './kubeconfig.js';
import { proxyFor } from './proxy-route.js';
import type { TunnelError } from './proxy-tunnel.js';
import { HTTP2_CONNECTION_LOST, Http2Sessions, refusedUnprocessed } from './http2-sessions.js';

/** A request to the API server: a path under the server URL, optional query, body and content type. */
export interface KubeRequest {
  method?: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Deadline of the whole request in milliseconds (defaults to --request-timeout, else none). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Ask for a WebSocket upgrade with these subprotocols: a 101 answer resolves with status 101 and
   * the upgraded connection closed at once (a probe that a stream could be opened, nothing more).
   */
  upgrade?: string[];
}

/** One watch event. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** How the client is set up: identity, route, deadlines and retries. */
export interface HttpClientOptions {
  credentials: CredentialSource;
  userAgent: string;
  /** --request-timeout in ms: a deadline per request (never for watches). */
  requestTimeoutMs?: number;
  /** The environment whose HTTPS_PROXY/HTTP_PROXY/NO_PROXY apply. */
  env?: NodeJS.ProcessEnv;
  debug?: (line: string) => void;
  /** Takes the `Warning` header values of every response (kubectl prints them: WarningCollector). */
  onWarnings?: (values: string[]) => void;
  /** client-go's default: 10 tries after the first on 429/5xx with Retry-After and on connection resets. */
  maxRetries?: number;
  /** The pause before a retry (tests shorten it). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** false: HTTP/1.1 only (default: HTTP/2 when the server offers it on a direct https connection). */
  http2?: boolean;
}

const CONNECT_TIMEOUT_MS = 10_000;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The REST transport: every request asks the CredentialSource for its identity (so exec, tokenFile
 * and OIDC credentials may change mid-run), goes direct or through the proxy kubectl would use, and
 * survives faults as client-go does (rest/with_retry.go): 429 and 5xx answers with Retry-After are
 * tried again after that pause, a GET cut by a connection reset after a backoff, a 401 once after
 * fresh credentials. (A watch that drops is resumed by its caller: ClusterApi.watchPod.)
 */
export class KubeHttpClient {
  /** How many HTTP requests this client sent (the benchmark reports it). */
  requestCount = 0;
  private h1Connections = 0;
  private rttMs: number | undefined;
  private handshakeMs: number | undefined;
  private firstMs: number | undefined;
  private openedAhead = false;
  private readonly h2: Http2Sessions | undefined;
  private readonly url: URL;
  private readonly tls: RequestOptions;
  private agent: HttpAgent | undefined;
  private agentReady: Promise<HttpAgent> | undefined;
  private send1: typeof import('node:https').request | undefined;
  private readonly proxy: URL | undefined;

  constructor(
    private readonly target: KubeTarget,
    private readonly options: HttpClientOptions,
  ) {
    try {
      this.url = new URL(target.server);
    } catch {
      throw new PluginError('config', `the server "${target.server}" of cluster "${target.clusterName}" is not a URL; fix it in the kubeconfig or --server`);
    }
    this.tls = tlsOptions(target);
    this.proxy = proxyFor(this.url, target.cluster.proxyUrl, options.env ?? process.env);
    // HTTP/2 on a direct https connection (through a proxy, and for upgrades: HTTP/1.1).
    if (this.url.protocol === 'https:' && !this.proxy && options.http2 !== false) this.h2 = new Http2Sessions(
        this.url,
        this.tls as ConnectionOptions,
        CONNECT_TIMEOUT_MS,
        (ms) => this.sampleRoundTrip(ms),
        (ms) => (this.handshakeMs ??= ms),
      );
  }

  /**
   * Opens the connection the first request will take (HTTP/2 with the kubeconfig's own client
   * certificate, as once() asks for it) before there is a request: its handshakes then overlap
   * whatever the run still does first. Nothing is sent and no credential is fetched; a failure
   * is left for the first request to meet (and report) again.
   */
  preconnect(): void {
    if (!this.h2 || this.h2.h1Only) return;
    this.openedAhead = true;
    try {
      const tls = this.options.credentials.staticTlsFiles();
      this.h2.session(tls.cert, tls.key).catch(() => undefined);
    } catch {
      /* an unreadable certificate: the first request says so */
    }
  }

  /** How many connections it opened (each a TCP, and for https a TLS, handshake). */
  get connectionCount(): number {
    return this.h1Connections + (this.h2?.connections ?? 0);
  }

  /** Sends one request and parses the JSON answer; non-2xx answers become ApiError. */
  async request<T>(req: KubeRequest): Promise<T> {
    const { status, text } = await this.send(req);
    const body = text ? (safeJson(text) as unknown) : undefined;
    if (status >= 200 && status < 300) return body as T;
    throw new ApiError(status, body as KubeStatus | undefined, req.method ?? 'GET', req.path);
  }

  /** Sends a request and returns the raw body text (for logs). */
  async text(req: KubeRequest): Promise<string> {
    const { status, text } = await this.send(req);
    if (status >= 200 && status < 300) return text;
    throw new ApiError(status, safeJson(text), req.method ?? 'GET', req.path);
  }

  /**
   * Streams a watch, calling onEvent for each event until it returns true (done), the signal
   * aborts, or the server closes the stream (then resolves with false so the caller can re-watch).
   * No deadline applies: a watch ends by its own timeoutSeconds, never by --request-timeout.
   */
  async watch<T>(req: KubeRequest, onEvent: (event: WatchEvent<T>) => boolean | void): Promise<boolean> {
    const res = await this.exchange({ ...req, query: { ...req.query, watch: true, allowWatchBookmarks: true } }, true);
    if ((res.statusCode ?? 0) >= 300) {
      const text = await readAll(res);
      throw new ApiError(res.statusCode ?? 0, safeJson(text), 'GET', req.path);
    }
    return new Promise<boolean>((resolve, reject) => {
      let buffer = '';
      let done = false;
      const finish = (value: boolean) => {
        if (done) return;
        done = true;
        res.destroy();
        resolve(value);
      };
      const fail = (err: Error) => {
        if (done) return;
        done = true;
        res.destroy();
        reject(err);
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while (!done && (nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          try {
            if (onEvent(JSON.parse(line) as WatchEvent<T>) === true) finish(true);
          } catch (err) {
            fail(err as Error);
          }
        }
      });
      res.on('end', () => finish(false));
      // A stream cut by a reset or a server restart: the caller watches again from the last version.
      res.on('aborted', () => fail(this.translateNetworkError(Object.assign(new Error('watch stream cut'), { code: 'ECONNRESET' }))));
      res.on('error', (err) => fail(this.translateNetworkError(err)));
      req.signal?.addEventListener('abort', () => finish(false), { once: true });
    });
  }

  /**
   * A streamed answer (a followed log): the response itself, to read as it comes; a status other
   * than 2xx is thrown as an ApiError with the body. No deadline applies, as for a watch.
   */
  async stream(req: KubeRequest): Promise<IncomingMessage> {
    const res = await this.exchange(req, true);
    if ((res.statusCode ?? 0) >= 300) {
      const text = await readAll(res);
      throw new ApiError(res.statusCode ?? 0, safeJson(text), 'GET', req.path);
    }
    return res;
  }

  /** One request whose answer matters only by its status (an upgrade probe); the body is dropped. */
  async probe(req: KubeRequest): Promise<{ status: number }> {
    const res = await this.exchange(req, false);
    res.resume();
    return { status: res.statusCode ?? 0 };
  }

  /**
   * The round trip to the API server as measured so far (ms): the shortest exchange on a connection
   * already open (a TCP handshake would time the nearest proxy or relay, not the server); undefined
   * before the first such answer.
   */
  roundTripMs(): number | undefined {
    return this.rttMs;
  }

  /**
   * What the first request cost on the wire (ms): its connection's TCP and TLS handshakes and one
   * answer, the credential's wait left out — what each kubectl the run spawns pays again before its
   * first answer (opened ahead, see preconnect: three times the first answer's round trip). The
   * early attach spaces its attempts by it. Undefined before the first answer.
   */
  firstExchangeMs(): number | undefined {
    return this.firstMs;
  }

  private sampleRoundTrip(ms: number): void {
    if (this.rttMs === undefined || ms < this.rttMs) this.rttMs = ms;
  }

  /** Closes idle keep-alive sockets so the process can exit at once. */
  close(): void {
    this.agent?.destroy();
    this.h2?.close();
  }

  private async send(req: KubeRequest): Promise<{ status: number; text: string }> {
    const res = await this.exchange(req, false);
    try {
      return { status: res.statusCode ?? 0, text: await readAll(res) };
    } catch (err) {
      // The deadline covers reading the body too (Go's http.Client.Timeout).
      const timeoutMs = req.timeoutMs ?? this.options.requestTimeoutMs;
      if ((err as Error).name === 'AbortError' && timeoutMs && !req.signal?.aborted) throw this.deadlineError(req.method ?? 'GET', req.path, timeoutMs);
      throw this.translateNetworkError(err as Error);
    }
  }

  // One logical request: its retries, the 401 refresh, and the deadline around all of them.
  private async exchange(req: KubeRequest, watch: boolean): Promise<IncomingMessage> {
    const method = req.method ?? 'GET';
    const maxRetries = this.options.maxRetries ?? 10;
    const timeoutMs = watch ? undefined : (req.timeoutMs ?? this.options.requestTimeoutMs);
    const deadline = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
    const signal = deadline && req.signal ? AbortSignal.any([deadline, req.signal]) : (deadline ?? req.signal);
    // client-go also tells the server how long it will wait (?timeout=), so it gives up too.
    const query = timeoutMs && !watch ? { ...req.query, timeout: `${Math.ceil(timeoutMs / 1000)}s` } : req.query;
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      let res: IncomingMessage;
      try {
        res = await this.once({ ...req, query, signal }, method);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (deadline?.aborted) throw this.deadlineError(method, req.path, timeoutMs!);
        // client-go (request.go IsRetryableError): only a GET, only when the connection was reset or
        // cut (EOF); a refused connection fails at once, so "server down" is reported without delay.
        // A stream the server refused unprocessed goes again whatever its method, at once the first
        // time (Go's HTTP/2 transport); a connection that sent a GOAWAY takes no new stream, so
        // those refused past it go on a new one.
        const unprocessed = refusedUnprocessed(err);
        const retriable = unprocessed || (IDEMPOTENT.has(method) && (['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(code) || HTTP2_CONNECTION_LOST.has(code) || /socket hang up/.test((err as Error).message)));
        if (!retriable || attempt >= maxRetries || signal?.aborted) throw this.translateNetworkError(err as Error);
        const pause = unprocessed && attempt === 0 ? 0 : Math.min(250 * 2 ** attempt, 2_000);
        this.options.debug?.(`${method} ${req.path}: ${code || (err as Error).message}; trying again in ${pause}ms`);
        await this.pause(pause, signal, deadline, method, req.path, timeoutMs);
        continue;
      }
      // client-go hands every response's warnings to its handler, failed answers' too.
      this.options.onWarnings?.(res.headersDistinct.warning ?? []);
      const status = res.statusCode ?? 0;
      if (status === 401 && !refreshed && this.options.credentials.invalidate()) {
        refreshed = true;
        res.resume();
        this.options.debug?.(`${method} ${req.path}: 401, fetching the credentials again`);
        continue;
      }
      const retryAfter = retryAfterMs(res);
      if ((status === 429 || status >= 500) && retryAfter !== undefined && attempt < maxRetries) {
        res.resume();
        this.options.debug?.(`${method} ${req.path}: ${status}, Retry-After ${retryAfter / 1000}s (try ${attempt + 1} of ${maxRetries})`);
        await this.pause(retryAfter, signal, deadline, method, req.path, timeoutMs);
        continue;
      }
      return res;
    }
  }

  private async pause(ms: number, signal: AbortSignal | undefined, deadline: AbortSignal | undefined, method: string, path: string, timeoutMs: number | undefined): Promise<void> {
    await (this.options.sleep ?? sleep)(ms, signal);
    if (deadline?.aborted) throw this.deadlineError(method, path, timeoutMs!);
    if (signal?.aborted) throw new PluginError('cancelled', 'cancelled');
  }

  private deadlineError(method: string, path: string, timeoutMs: number): PluginError {
    return new PluginError('unreachable', `${method} ${path} got no answer from the API server ${this.target.server} within --request-timeout (${timeoutMs / 1000}s); raise --request-timeout or check the cluster`);
  }

  // One HTTP exchange with the identity of this moment.
  private async once(req: KubeRequest, method: string): Promise<IncomingMessage> {
    // The connection is opened while the credential is fetched (an exec plugin takes ~0.5-1.5 s);
    // a certificate the plugin returns needs a connection of its own.
    const useH2 = this.h2 && !this.h2.h1Only && !req.upgrade ? this.h2 : undefined;
    const staticTls = this.options.credentials.staticTlsFiles();
    const early = useH2?.session(staticTls.cert, staticTls.key);
    early?.catch(() => undefined);
    const identity = await this.options.credentials.identity();
    const session = useH2 && (identity.cert === staticTls.cert ? await early : await useH2.session(identity.cert, identity.key));
    const path = this.url.pathname.replace(/\/$/, '') + req.path + queryString(req.query);
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string | string[]> = { ...identity.headers, Accept: 'application/json', 'User-Agent': this.options.userAgent };
    if (body) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    if (session) {
      this.requestCount++;
      this.options.debug?.(`${method} ${path} (HTTP/2, ${Math.round(performance.now())} ms after start)`);
      const sent = performance.now();
      const res = await useH2!.request(session, method, path, headers, body, req.signal);
      const exchange = performance.now() - sent;
      // The handshakes of a connection opened ahead were timed across the run's own start-up
      // work: they count as what TCP and TLS 1.3 cost on this wire, two round trips.
      this.firstMs ??= (this.openedAhead ? 2 * exchange : (this.handshakeMs ?? 0)) + exchange;
      return res;
    }
    const agent = await this.getAgent();
    return new Promise((resolve, reject) => {
      if (req.upgrade) {
        // An Accept of JSON makes the API server refuse the upgrade (406).
        delete headers.Accept;
        Object.assign(headers, {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
          'Sec-WebSocket-Protocol': req.upgrade.join(', '),
        });
      }
      this.requestCount++;
      this.options.debug?.(`${method} ${path} (${Math.round(performance.now())} ms after start)`);
      const send = this.send1!;
      const r = send(
        {
          ...this.tls,
          ...(identity.cert ? { cert: identity.cert, key: identity.key } : {}),
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port || (this.url.protocol === 'http:' ? 80 : 443),
          agent,
          method,
          path,
          headers,
          signal: req.signal,
        },
        resolve,
      );
      const sent = performance.now();
      let reused = false;
      r.on('socket', (socket) => {
        if (socket.connecting) {
          this.h1Connections++;
          const t = setTimeout(() => r.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
          socket.once('connect', () => clearTimeout(t));
          socket.once('close', () => clearTimeout(t));
        } else reused = true;
      });
      r.once('response', () => (reused ? this.sampleRoundTrip(performance.now() - sent) : (this.firstMs ??= performance.now() - sent)));
      // Switched protocols: the probe has its answer; the stream is not wanted.
      r.on('upgrade', (res: IncomingMessage, socket: Socket) => {
        socket.destroy();
        resolve(res);
      });
      r.on('error', reject);
      r.end(body);
    });
  }

  // A keep-alive agent, through the proxy when one applies; socks-proxy-agent (the one client-node
  // uses for socks5) loads only when needed.
  private getAgent(): Promise<HttpAgent> {
    this.agentReady ??= (async () => {
      const secure = this.url.protocol !== 'http:';
      const base = { keepAlive: true, maxSockets: 8 };
      const h1 = secure ? await import('node:https') : await import('node:http');
      this.send1 = h1.request as typeof import('node:https').request;
      if (!this.proxy) this.agent = new h1.Agent(base);
      else if (this.proxy.protocol.startsWith('socks')) {
        const { SocksProxyAgent } = await import('socks-proxy-agent');
        // Go's SOCKS5 dialer hands the host name to the proxy; socks-proxy-agent resolves it
        // locally for socks5:// and remotely only for socks5h://, so ask for the latter.
        const url = new URL(this.proxy.href.replace(/^socks5:/, 'socks5h:'));
        this.agent = new SocksProxyAgent(url, base) as unknown as HttpAgent;
      } else {
        const { tunnelAgent } = await import('./proxy-tunnel.js');
        this.agent = tunnelAgent(this.proxy, this.proxyTls(), secure, base, CONNECT_TIMEOUT_MS);
      }
      if (this.proxy) this.options.debug?.(`through proxy ${this.proxy.protocol}//${this.proxy.host}`);
      return this.agent;
    })();
    return this.agentReady;
  }

  /**
   * The TLS to an https:// proxy as Go's http.Transport sets it up (transport.go addTLS): the
   * cluster's own TLS config, so the proxy's certificate must be signed by the cluster's
   * certificate-authority (the system store when none is set) and is checked against
   * tls-server-name when set, else the proxy's host; insecure-skip-tls-verify skips it too.
   */
  private proxyTls(): ConnectionOptions {
    const name = this.target.cluster.tlsServerName ?? this.proxy!.hostname.replace(/^\[|\]$/g, '');
    return {
      ...(this.tls.ca ? { ca: this.tls.ca } : {}),
      ...(this.tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
    };
  }

  private translateNetworkError(err: TunnelError): Error {
    if (err.name === 'AbortError') return new PluginError('cancelled', 'cancelled');
    if (err instanceof PluginError || err instanceof ApiError) return err;
    const via = this.proxy ? ` through the proxy ${this.proxy.protocol}//${this.proxy.host}` : '';
    const tlsFailed = /certificate|self.signed|unable to verify|altnames|SSL|CERT/i.test(`${err.code} ${err.message}`);
    let fix = tlsFailed ? 'check certificate-authority, tls-server-name or the server address' : 'check that the cluster is up and the context is right';
    if (err.atProxy && tlsFailed) {
      const name = this.target.cluster.tlsServerName ? `tls-server-name "${this.target.cluster.tlsServerName}"` : `the proxy host "${this.proxy!.hostname}"`;
      const c = this.target.cluster;
      const ca = c.certificateAuthority || c.certificateAuthorityData ? "the cluster's certificate-authority" : 'a CA of the system trust store';
      fix = `kubectl checks the proxy's certificate like the server's: signed by ${ca}, valid for ${name}; fix the proxy's certificate or proxy-url`;
    } else if (err.atProxy) fix = `${err.message}; check proxy-url (or HTTPS_PROXY) and the proxy`;
    return new PluginError(
      'unreachable',
      `cannot reach the API server ${this.target.server}${via} of context "${this.target.contextName}" (${err.code ?? err.message}); ${fix}`,
      { cause: err },
    );
  }
}

// client-go's TLS rules: a CA file and CA data together, or a CA with insecure-skip-tls-verify, are
// errors; no CA at all means the system's trust store (as Go), not Node's bundled one.
function tlsOptions(target: KubeTarget): RequestOptions {
  const c = target.cluster;
  if (c.certificateAuthority && c.certificateAuthorityData)
    throw new PluginError('config', `cluster "${c.name}" sets both certificate-authority and certificate-authority-data; kubectl refuses that too: keep one`);
  if (c.insecureSkipTlsVerify && (c.certificateAuthority || c.certificateAuthorityData))
    throw new PluginError('config', `cluster "${c.name}" sets insecure-skip-tls-verify together with a certificate authority; kubectl refuses that too: keep one`);
  const opts: RequestOptions = {};
  if (c.insecureSkipTlsVerify) opts.rejectUnauthorized = false;
  else if (c.certificateAuthorityData) opts.ca = Buffer.from(c.certificateAuthorityData, 'base64');
  else if (c.certificateAuthority) {
    try {
      opts.ca = readFileSync(c.certificateAuthority);
    } catch (err) {
      throw new PluginError('config', `cannot read the certificate-authority ${c.certificateAuthority} of cluster "${c.name}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the path`);
    }
  } else {
    const system = getCACertificates('system');
    if (system.length) opts.ca = system;
  }
  // Node checks the certificate against servername when set (tls.checkServerIdentity), as Go's ServerName.
  if (c.tlsServerName) opts.servername = c.tlsServerName;
  return opts;
}

/** Retry-After in ms (seconds form, as client-go reads it), or undefined when absent or unreadable. */
function retryAfterMs(res: IncomingMessage): number | undefined {
  const raw = res.headers['retry-after'];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  return Number.isInteger(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

function queryString(query: KubeRequest['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(Object.assign(new Error('response cut'), { code: 'ECONNRESET' })));
  });
}

function safeJson(text: string): KubeStatus | undefined {
  try {
    return JSON.parse(text) as KubeStatus;
  } catch {
    return { message: text };
  }
}
