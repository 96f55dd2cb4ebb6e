import { Agent as HttpAgent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** A failure before the tunnel stands (the proxy's TLS, its answer), so messages can name the proxy. */
export type TunnelError = Error & { code?: string; atProxy?: true };

type Created = (err: Error | null, stream: Duplex) => void;

/**
 * Opens a tunnel to host:port through an HTTP CONNECT proxy, as Go's http.Transport does: for an
 * https:// proxy, TLS to the proxy first with `proxyTls` (Go uses the cluster's own TLS config
 * there), the proxy URL's user and password as Basic Proxy-Authorization, and the socket handed
 * over once the proxy answered 200. (hpagent, which client-node uses, sends an IP address as the
 * TLS server name, which Node reports with a deprecation warning on stderr, and Go never does.)
 */
export function openTunnel(proxy: URL, host: string, port: number, proxyTls: ConnectionOptions, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
    const secure = proxy.protocol === 'https:';
    const proxyPort = Number(proxy.port) || (secure ? 443 : 80);
    const socket: Socket = secure
      ? tlsConnect({ ...proxyTls, host: proxyHost, port: proxyPort, servername: isIP(proxyHost) ? undefined : proxyHost, ALPNProtocols: ['http/1.1'] })
      : netConnect(proxyPort, proxyHost);
    let head = Buffer.alloc(0);
    const fail = (err: TunnelError) => {
      socket.destroy();
      reject(Object.assign(err, { atProxy: true as const }));
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return void (head.length > 65_536 && fail(new Error('the proxy answered CONNECT with an endless header')));
      socket.off('data', onData).off('error', fail).setTimeout(0);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'))?.[1];
      if (status !== '200') return fail(Object.assign(new Error(`the proxy answered CONNECT with ${status ?? 'no HTTP status'}`), { code: `CONNECT ${status ?? '?'}` }));
      // From here the bytes belong to the tunnel (TLS to the API server): keep any that came early.
      socket.pause();
      if (head.length > end + 4) socket.unshift(head.subarray(end + 4));
      resolve(socket);
    };
    socket.setTimeout(timeoutMs, () => fail(Object.assign(new Error('the proxy did not answer in time'), { code: 'ETIMEDOUT' })));
    socket.on('error', fail);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
      const auth = proxy.username || proxy.password ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n` : '';
      socket.on('data', onData);
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    });
  });
}

/** A keep-alive agent whose connections are CONNECT tunnels through `proxy` (TLS to the server on top when `secure`). */
export function tunnelAgent(proxy: URL, proxyTls: ConnectionOptions, secure: boolean, options: AgentOptions, timeoutMs: number): HttpAgent {
  const open = (o: ClientRequestArgs) => openTunnel(proxy, String(o.host ?? o.hostname), Number(o.port), proxyTls, timeoutMs);
  if (!secure) {
    return new (class extends HttpAgent {
      override createConnection(o: ClientRequestArgs, cb?: Created): undefined {
        open(o).then((socket) => cb!(null, socket), (err: Error) => cb!(err, undefined as unknown as Duplex));
        return undefined;
      }
    })(options);
  }
  return new (class extends HttpsAgent {
    override createConnection(o: ClientRequestArgs, cb?: Created): undefined {
      const created = (socket: Socket) => {
        try {
          cb!(null, super.createConnection({ ...o, socket } as ClientRequestArgs) as Duplex);
        } catch (err) {
          socket.destroy();
          cb!(err as Error, undefined as unknown as Duplex);
        }
      };
      open(o).then(created, (err: Error) => cb!(err, undefined as unknown as Duplex));
      return undefined;
    }
  })(options);
}
