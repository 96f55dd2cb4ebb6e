// The credential relay (src/kube/credential-relay.ts) over a real Unix socket: the run's side
// answers each connection with the credential it holds, or as soon as it holds one; the exec
// plugin's side prints the answer for kubectl, or fails with a line when the run is gone. (kubectl
// itself reading it, against the real API server: test/integration/connections/child-connection.test.ts.)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CREDENTIAL_FROM_FLAG, CredentialRelay, execCredentialOf, printRelayedCredential, relayCommand } from '../../../src/kube/credential-relay';

/** Runs the exec plugin's side in this process: its exit code, stdout and stderr. */
function relayed(socket: string): { done: Promise<{ code: number; out: string; err: string }>; settled: () => boolean } {
  const out = new PassThrough();
  const err = new PassThrough();
  let [o, e, finished] = ['', '', false];
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  const done = printRelayedCredential(socket, out, err).then((code) => {
    finished = true;
    return { code, out: o, err: e };
  });
  return { done, settled: () => finished };
}

describe('the credential relay', () => {
  let dir: string;
  let socket: string;
  let relay: CredentialRelay | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ke-relay-'));
    socket = join(dir, 'credential.sock');
  });
  afterEach(() => {
    relay?.close();
    relay = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a kubectl that asks before the run holds its credential waits for it; later ones get it at once; the socket is 0600', async () => {
    relay = await CredentialRelay.listen(socket);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const early = relayed(socket);
    // Nothing to answer with yet: the exec plugin waits (a turn of the event loop for the connection to land).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(early.settled()).toBe(false);
    relay.provide({ headers: { Authorization: 'Bearer tok-1', 'Impersonate-User': 'jane' } });
    const answer = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'tok-1' } };
    const first = await early.done;
    expect([first.code, JSON.parse(first.out), first.err]).toEqual([0, answer, '']);
    // A renewed credential is what the next asker gets.
    relay.provide({ headers: { Authorization: 'Bearer tok-2' } });
    const later = await relayed(socket).done;
    expect(JSON.parse(later.out).status).toEqual({ token: 'tok-2' });
  });

  it('hands over an exec plugin\'s client certificate with its key', () => {
    expect(JSON.parse(execCredentialOf({ headers: {}, cert: 'CERT-PEM', key: Buffer.from('KEY-PEM') })).status).toEqual({ clientCertificateData: 'CERT-PEM', clientKeyData: 'KEY-PEM' });
  });

  it('a run that ends without a credential (or is gone) fails the waiting kubectl with one line, exit code 1', async () => {
    relay = await CredentialRelay.listen(socket);
    const waiting = relayed(socket);
    await new Promise((resolve) => setTimeout(resolve, 50));
    relay.close();
    const ended = await waiting.done;
    expect(ended.code).toBe(1);
    expect(ended.out).toBe('');
    expect(ended.err).toMatch(/^kubectl-ephemeral: (the run that started this kubectl ended without a credential|no credential from .*: the kubectl-ephemeral run that started this kubectl has ended)\n$/);
    const gone = await relayed(socket).done;
    expect([gone.code, gone.out]).toEqual([1, '']);
    expect(gone.err).toMatch(/^kubectl-ephemeral: no credential from .*credential\.sock \(.*\): the kubectl-ephemeral run that started this kubectl has ended\n$/);
  });

  it('runs this program with --credential-from SOCKET, after the script a development build needs', () => {
    expect(relayCommand('/run/x/credential.sock', { command: '/usr/bin/node', args: ['/opt/ke/kubectl-ephemeral.cjs'] })).toEqual({
      command: '/usr/bin/node',
      args: ['/opt/ke/kubectl-ephemeral.cjs', CREDENTIAL_FROM_FLAG, '/run/x/credential.sock'],
    });
    expect(relayCommand('/s', { command: '/usr/local/bin/kubectl-ephemeral', args: [] }).args).toEqual(['--credential-from', '/s']);
  });
});
