import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { PluginError } from '../errors/plugin-error.js';
import { ApiError, type KubeStatus } from './api-error.js';
import type { KubeTarget } from './kubeconfig.js';

/** A request to the API server: a path under the server URL, optional query, body and content type. */
export interface KubeRequest {
  method?: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Per-request timeout in milliseconds (defaults to --request-timeout, else none). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One watch event. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A small REST transport over one keep-alive connection. Credentials come from client-node's
 * KubeConfig (tokens, client certificates, exec and OIDC plugins); requests go through node:https
 * so that impersonated groups, request timeouts and streaming watches are under our control.
 */
export class KubeHttpClient {
  /** How many HTTP requests this client sent (the benchmark reports it). */
  requestCount = 0;
  private base: Promise<RequestOptions> | undefined;
  private readonly url: URL;
  private readonly agent: Agent;

  constructor(
    private readonly target: KubeTarget,
    private readonly options: { asGroups?: string[]; requestTimeoutMs?: number; userAgent: string; debug?: (line: string) => void },
  ) {
    this.url = new URL(target.server);
    this.agent = new Agent({ keepAlive: true, maxSockets: 8 });
  }

  /** Sends one request and parses the JSON answer; non-2xx answers become ApiError. */
  async request<T>(req: KubeRequest): Promise<T> {
    const { status, text } = await this.send(req);
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    if (status >= 200 && status < 300) return body as T;
    throw new ApiError(status, body as KubeStatus | undefined, req.method ?? 'GET', req.path);
  }

  /** Sends a request and returns the raw body text (for logs). */
  async text(req: KubeRequest): Promise<string> {
    const { status, text } = await this.send(req);
    if (status >= 200 && status < 300) return text;
    let body: KubeStatus | undefined;
    try {
      body = JSON.parse(text) as KubeStatus;
    } catch {
      body = { message: text };
    }
    throw new ApiError(status, body, req.method ?? 'GET', req.path);
  }

  /**
   * Streams a watch, calling onEvent for each event until it returns true (done), the signal
   * aborts, or the server closes the stream (then resolves with false so the caller can re-watch).
   */
  async watch<T>(req: KubeRequest, onEvent: (event: WatchEvent<T>) => boolean | void): Promise<boolean> {
    const res = await this.open({ ...req, query: { ...req.query, watch: true, allowWatchBookmarks: true } });
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
            done = true;
            res.destroy();
            reject(err);
          }
        }
      });
      res.on('end', () => finish(false));
      res.on('error', (err) => (done ? undefined : ((done = true), reject(this.translateNetworkError(err)))));
      req.signal?.addEventListener('abort', () => finish(false), { once: true });
    });
  }

  /** Closes idle keep-alive sockets so the process can exit at once. */
  close(): void {
    this.agent.destroy();
  }

  private async send(req: KubeRequest): Promise<{ status: number; text: string }> {
    const res = await this.open(req);
    return { status: res.statusCode ?? 0, text: await readAll(res) };
  }

  private open(req: KubeRequest): Promise<import('node:http').IncomingMessage> {
    return this.baseOptions().then(
      (base) =>
        new Promise((resolve, reject) => {
          const path = this.url.pathname.replace(/\/$/, '') + req.path + queryString(req.query);
          const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
          const headers: Record<string, string | string[]> = {
            ...(base.headers as Record<string, string>),
            Accept: 'application/json',
            'User-Agent': this.options.userAgent,
          };
          if (this.options.asGroups?.length) headers['Impersonate-Group'] = this.options.asGroups;
          if (body) {
            headers['Content-Type'] = req.contentType ?? 'application/json';
            headers['Content-Length'] = String(body.length);
          }
          this.requestCount++;
          this.options.debug?.(`${req.method ?? 'GET'} ${path}`);
          const send = this.url.protocol === 'http:' ? httpRequest : httpsRequest;
          const r = send(
            { ...base, agent: this.url.protocol === 'http:' ? undefined : this.agent, method: req.method ?? 'GET', path, headers, signal: req.signal },
            resolve,
          );
          const timeout = req.timeoutMs ?? this.options.requestTimeoutMs;
          if (timeout) r.setTimeout(timeout, () => r.destroy(Object.assign(new Error(`timeout after ${timeout}ms`), { code: 'ETIMEDOUT' })));
          r.on('socket', (socket) => {
            if (socket.connecting) {
              const t = setTimeout(() => r.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
              socket.once('connect', () => clearTimeout(t));
              socket.once('close', () => clearTimeout(t));
            }
          });
          r.on('error', (err) => reject(this.translateNetworkError(err)));
          r.end(body);
        }),
    );
  }

  private baseOptions(): Promise<RequestOptions> {
    this.base ??= (async () => {
      const opts: RequestOptions = { hostname: this.url.hostname.replace(/^\[|\]$/g, ''), port: this.url.port || (this.url.protocol === 'http:' ? 80 : 443), headers: {} };
      await this.target.config.applyToHTTPSOptions(opts as never);
      return opts;
    })();
    return this.base;
  }

  private translateNetworkError(err: Error & { code?: string }): Error {
    if (err.name === 'AbortError') return new PluginError('cancelled', 'cancelled');
    if (err instanceof PluginError || err instanceof ApiError) return err;
    return new PluginError(
      'unreachable',
      `cannot reach the API server ${this.target.server} of context "${this.target.contextName}" (${err.code ?? err.message}); check that the cluster is up and the context is right`,
      { cause: err },
    );
  }
}

function queryString(query: KubeRequest['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function readAll(res: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function safeJson(text: string): KubeStatus | undefined {
  try {
    return JSON.parse(text) as KubeStatus;
  } catch {
    return { message: text };
  }
}
