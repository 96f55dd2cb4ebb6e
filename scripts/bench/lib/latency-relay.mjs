// A far API server on the local one: a TCP relay on 127.0.0.1 that holds every chunk for half the
// round trip in each direction, and counts the connections and TLS handshakes (ClientHello records)
// that go through it (a connection's first byte waits one round trip more: the TCP handshake the
// relay does not delay). Chunks keep their order: each direction is one queue, drained by one timer
// aimed at its head (Node timers with equal due times but different durations can fire out of
// order, and a relay that reorders breaks TLS records).
import { connect, createServer } from 'node:net';

/**
 * Starts the relay to target (host, port) adding rttMs per round trip; resolves with its port,
 * a snapshot of its counters, and close().
 */
export async function startLatencyRelay({ host, port, rttMs }) {
  const half = rttMs / 2;
  const counts = { connections: 0, tlsHandshakes: 0, bytesUp: 0, bytesDown: 0 };
  const sockets = new Set();
  const server = createServer((client) => {
    counts.connections++;
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (client.destroy(), upstream.destroy()));
    }
    let first = true;
    // The relay accepts at once, where a far server's TCP handshake takes a round trip before the
    // client's first byte can leave: that byte (a ClientHello) waits one round trip more.
    delayed(client, upstream, half, rttMs, (chunk) => {
      counts.bytesUp += chunk.length;
      // A TLS handshake record (22) carrying a ClientHello (1) opens each TLS connection.
      if (first && chunk[0] === 22 && chunk[5] === 1) counts.tlsHandshakes++;
      first = false;
    });
    delayed(upstream, client, half, 0, (chunk) => (counts.bytesDown += chunk.length));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    counts: () => ({ ...counts }),
    close: () => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))),
  };
}

// from -> to, each chunk (and the end) delivered `ms` after it arrived (the first `firstExtraMs`
// later still), in arrival order.
function delayed(from, to, ms, firstExtraMs, onChunk) {
  let extra = firstExtraMs;
  const queue = [];
  let timer;
  const pump = () => {
    timer = undefined;
    while (queue.length && queue[0].due <= performance.now()) {
      const item = queue.shift();
      if (item.end) to.end();
      else to.write(item.chunk);
    }
    if (queue.length) timer = setTimeout(pump, Math.max(0, queue[0].due - performance.now()));
  };
  const push = (item) => {
    const due = Math.max(performance.now() + ms + extra, queue.at(-1)?.due ?? 0);
    extra = 0;
    queue.push({ ...item, due });
    timer ??= setTimeout(pump, Math.max(0, due - performance.now()));
  };
  from.on('data', (chunk) => {
    onChunk(chunk);
    push({ chunk });
  });
  from.on('end', () => push({ end: true }));
}
