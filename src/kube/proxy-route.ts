import { BlockList, isIP } from 'node:net';
import { PluginError } from '../errors/plugin-error.js';

/**
 * The proxy a request to `server` goes through, or undefined for a direct connection: the cluster's
 * proxy-url when set (for every request, as client-go), else HTTPS_PROXY/HTTP_PROXY unless NO_PROXY
 * matches, with Go's rules (golang.org/x/net/http/httpproxy): upper case before lower case, a
 * loopback address or `localhost` never proxied, `*` matching everything, entries as IPs, CIDRs or
 * domains (`example.com` also matches subdomains, `.example.com` only them), optionally with a port.
 */
export function proxyFor(server: URL, proxyUrl: string | undefined, env: NodeJS.ProcessEnv): URL | undefined {
  if (proxyUrl) return parseProxy(proxyUrl, 'the cluster\'s proxy-url');
  const https = server.protocol === 'https:';
  const name = https ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  const raw = env[name] || env[name.toLowerCase()];
  if (!raw) return undefined;
  const host = server.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = server.port || (https ? '443' : '80');
  if (host === 'localhost' || isLoopback(host)) return undefined;
  if (noProxyMatches(host, port, env.NO_PROXY || env.no_proxy || '')) return undefined;
  return parseProxy(raw, name);
}

function parseProxy(raw: string, source: string): URL {
  let url: URL;
  try {
    // Go reads "host:port" without a scheme as an http proxy.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new PluginError('config', `${source} "${raw}" is not a URL; fix it (e.g. http://proxy.example:3128)`);
  }
  if (!['http:', 'https:', 'socks5:', 'socks5h:'].includes(url.protocol))
    throw new PluginError('config', `${source} "${raw}" has scheme ${url.protocol.replace(/:$/, '')}; kubectl supports http, https and socks5 proxies`);
  return url;
}

function isLoopback(host: string): boolean {
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

function noProxyMatches(host: string, port: string, noProxy: string): boolean {
  for (let entry of noProxy.split(',')) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      const [net, bits] = entry.split('/');
      const family = isIP(net!);
      if (family && isIP(host) === family) {
        const list = new BlockList();
        list.addSubnet(net!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
        if (list.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
      }
      continue;
    }
    let entryHost = entry;
    let entryPort = '';
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.startsWith('[') ? entry : entry);
    if (!isIP(entry) && m?.[2]) {
      entryHost = m[1]!;
      entryPort = m[2];
    }
    entryHost = entryHost.replace(/^\[|\]$/g, '');
    if (entryPort && entryPort !== port) continue;
    if (isIP(entryHost)) {
      if (entryHost === host) return true;
      continue;
    }
    if (entryHost.startsWith('*.')) entryHost = entryHost.slice(1);
    if (entryHost.startsWith('.') ? host.endsWith(entryHost) : host === entryHost || host.endsWith(`.${entryHost}`)) return true;
  }
  return false;
}
