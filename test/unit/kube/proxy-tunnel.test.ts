import { createServer, type AddressInfo, type Server } from 'node:net';
import { openTunnel } from '../../../src/kube/proxy-tunnel';

// A CONNECT proxy stand-in: records the request head, answers with `status`, then echoes.
async function fakeProxy(status: string): Promise<{ url: string; heads: string[]; server: Server }> {
  const heads: string[] = [];
  const server = createServer((socket) => {
    let head = '';
    socket.on('data', function onData(chunk) {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      heads.push(head);
      socket.write(`HTTP/1.1 ${status}\r\n\r\n`);
      if (status.startsWith('200')) socket.pipe(socket);
      else socket.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, heads, server };
}

describe('openTunnel (an HTTP CONNECT tunnel as Go opens one)', () => {
  it('sends CONNECT host:port with the URL\'s user and password as Basic Proxy-Authorization, then hands over the socket', async () => {
    const proxy = await fakeProxy('200 Connection Established');
    try {
      const url = new URL(proxy.url);
      url.username = 'al%40ice';
      url.password = 's3cret';
      const socket = await openTunnel(url, 'api.example.invalid', 6443, {}, 5000);
      socket.resume();
      const echoed = new Promise<string>((r) => socket.once('data', (d) => r(d.toString())));
      socket.write('ping');
      expect(await echoed).toBe('ping');
      socket.destroy();
      expect(proxy.heads).toEqual([`CONNECT api.example.invalid:6443 HTTP/1.1\r\nHost: api.example.invalid:6443\r\nProxy-Authorization: Basic ${Buffer.from('al@ice:s3cret').toString('base64')}\r\n\r\n`]);
    } finally {
      proxy.server.close();
    }
  });

  it('a refusal (407) is an error marked as the proxy\'s, carrying the status', async () => {
    const proxy = await fakeProxy('407 Proxy Authentication Required');
    try {
      await expect(openTunnel(new URL(proxy.url), '::1', 443, {}, 5000)).rejects.toMatchObject({ atProxy: true, code: 'CONNECT 407', message: 'the proxy answered CONNECT with 407' });
      expect(proxy.heads[0]).toMatch(/^CONNECT \[::1\]:443 HTTP\/1\.1\r\n/);
    } finally {
      proxy.server.close();
    }
  });
});
