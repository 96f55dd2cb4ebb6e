import { reattachCommandLine } from '../../../src/debug/attach-debug-container';
import type { KubeFlags } from '../../../src/kube/kube-flags';

const flags = (f: Partial<KubeFlags> = {}): KubeFlags => ({ verbosity: 0, asGroup: [], ...f });

describe('reattachCommandLine', () => {
  it('names pod, container and namespace', () => {
    expect(reattachCommandLine('shop', 'web', 'debugger-shell-x7k2p', flags())).toBe('kubectl ephemeral attach web debugger-shell-x7k2p -n shop');
  });

  it('carries every flag that chose the cluster and the identity, and none that did not', () => {
    const f = flags({ context: 'prod', kubeconfig: '/home/me/.kube/prod', cluster: 'c1', user: 'me', as: 'alice', asGroup: ['sre', 'oncall'], requestTimeout: '5s', verbosity: 2 });
    expect(reattachCommandLine('shop', 'web', 'dbg', f)).toBe(
      'kubectl ephemeral attach web dbg -n shop --context prod --kubeconfig /home/me/.kube/prod --cluster c1 --user me --as alice --as-group sre --as-group oncall',
    );
  });

  it('quotes what a shell would split', () => {
    expect(reattachCommandLine('shop', 'web', 'dbg', flags({ kubeconfig: "/tmp/my cfg/it's" }))).toBe("kubectl ephemeral attach web dbg -n shop --kubeconfig '/tmp/my cfg/it'\\''s'");
  });
});
