import { commandSpecs } from '../../../src/cli/command-spec';
import { runCompletion, WORKLOAD_PREFIXES, type CompletionDeps, type CompletionPod } from '../../../src/completion/complete';
import { completionPodOf } from '../../../src/kube/completion-lookups';
import { PresetRegistry } from '../../../src/presets/registry';

// The real command definitions: completion is derived from them, so the tests read them too.
const commands = commandSpecs(PresetRegistry.from());
import type { KubeFlags } from '../../../src/kube/kube-flags';

/** Fake lookups that record every call, built like the other test data. */
class FakeCluster {
  readonly calls: Array<{ fn: string; namespace?: string; flags: KubeFlags }> = [];
  private pods = new Map<string, CompletionPod[]>();
  private namespaces: string[] = [];
  private contextNames: string[] = [];
  private failure: Error | undefined;
  private workloads = new Map<string, string[]>();

  withWorkloads(namespace: string, kind: string, ...names: string[]): this {
    this.workloads.set(`${namespace}/${kind}`, names);
    return this;
  }

  withPods(namespace: string, ...pods: CompletionPod[]): this {
    this.pods.set(namespace, pods);
    return this;
  }
  withNamespaces(...names: string[]): this {
    this.namespaces = names;
    return this;
  }
  withContexts(...names: string[]): this {
    this.contextNames = names;
    return this;
  }
  failing(error: Error): this {
    this.failure = error;
    return this;
  }

  deps(): CompletionDeps {
    return {
      commands,
      contexts: (flags) => {
        this.calls.push({ fn: 'contexts', flags });
        return this.contextNames;
      },
      listPods: async (namespace, flags) => {
        this.calls.push({ fn: 'listPods', namespace, flags });
        if (this.failure) throw this.failure;
        return this.pods.get(namespace ?? 'default') ?? [];
      },
      listNamespaces: async (flags) => {
        this.calls.push({ fn: 'listNamespaces', flags });
        if (this.failure) throw this.failure;
        return this.namespaces;
      },
      listNodes: async (flags) => {
        this.calls.push({ fn: 'listNodes', flags });
        if (this.failure) throw this.failure;
        return ['worker-1', 'worker-2'];
      },
      listWorkloads: async (kind, namespace, flags) => {
        this.calls.push({ fn: `listWorkloads ${kind}`, namespace, flags });
        if (this.failure) throw this.failure;
        return this.workloads.get(`${namespace ?? 'default'}/${kind}`) ?? [];
      },
    };
  }
}

const pod = (name: string, containers: string[], ephemeralContainers: string[] = []): CompletionPod => ({ name, containers, ephemeralContainers });
const complete = (cluster: FakeCluster, line: string) => runCompletion(line.split(' '), cluster.deps());

describe('runCompletion', () => {
  it('offers subcommands, presets and aliases first, and no files', async () => {
    const cluster = new FakeCluster();
    expect(await complete(cluster, '')).toEqual([
      'network', 'net', 'forensics', 'crashloop', 'process', 'proc', 'shell',
      'presets', 'list', 'attach', 'capture', 'collect', 'sessions', 'cleanup', 'permissions', ':4',
    ]);
    expect(cluster.calls).toEqual([]);
  });

  it('filters by the word typed so far', async () => {
    expect(await complete(new FakeCluster(), 'pr')).toEqual(['process', 'proc', 'presets', ':4']);
  });

  it('offers pods of the namespace from -n after a preset, in one lookup', async () => {
    const cluster = new FakeCluster().withPods('shop', pod('web-1', ['app']), pod('db-0', ['pg'])).withPods('default', pod('other', ['x']));
    expect(await complete(cluster, 'net -n shop ')).toEqual(['web-1', 'db-0', ':4']);
    expect(cluster.calls).toHaveLength(1);
    expect(cluster.calls[0]).toMatchObject({ fn: 'listPods', namespace: 'shop' });
  });

  it('passes --context and --kubeconfig (both spellings) to the lookup', async () => {
    const cluster = new FakeCluster();
    await complete(cluster, 'forensics --context=prod --kubeconfig /tmp/kc --namespace=ops w');
    expect(cluster.calls[0]!.flags).toMatchObject({ context: 'prod', kubeconfig: '/tmp/kc', namespace: 'ops' });
  });

  it('offers pods after the commands that take one', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app']));
    for (const command of ['list', 'attach', 'capture', 'collect', 'cleanup']) expect(await complete(cluster, `${command} w`)).toEqual(['web-1', ':4']);
    expect(await complete(cluster, 'presets ')).toEqual([':4']);
  });

  it('offers the chosen pod containers after -c', async () => {
    const cluster = new FakeCluster().withPods('shop', pod('web-1', ['app', 'sidecar']), pod('db-0', ['pg']));
    expect(await complete(cluster, 'net web-1 -n shop -c ')).toEqual(['app', 'sidecar', ':4']);
    expect(await complete(cluster, 'net -n shop web-1 --container=s')).toEqual(['--container=sidecar', ':4']);
    expect(await complete(cluster, 'net -n shop gone -c ')).toEqual([':4']);
  });

  it('offers -c nothing (and asks nothing) before a pod is named', async () => {
    const cluster = new FakeCluster();
    expect(await complete(cluster, 'net -c ')).toEqual([':4']);
    expect(cluster.calls).toEqual([]);
  });

  it('offers the debug containers of a pod to attach', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app'], ['debugger-net-x1', 'debugger-shell-y2']));
    expect(await complete(cluster, 'attach web-1 ')).toEqual(['debugger-net-x1', 'debugger-shell-y2', ':4']);
  });

  it('attach: only running debug containers are offered (attach refuses the others)', () => {
    const item = {
      metadata: { name: 'web-1' },
      spec: { containers: [{ name: 'app' }], ephemeralContainers: [{ name: 'debugger-shell-done1' }, { name: 'debugger-shell-live2' }, { name: 'debugger-shell-new33' }] },
      status: {
        ephemeralContainerStatuses: [
          { name: 'debugger-shell-done1', state: { terminated: { exitCode: 0 } }, image: 'b', imageID: '', ready: false, restartCount: 0 },
          { name: 'debugger-shell-live2', state: { running: {} }, image: 'b', imageID: '', ready: true, restartCount: 0 },
        ],
      },
    };
    expect(completionPodOf(item)).toEqual({ name: 'web-1', containers: ['app'], ephemeralContainers: ['debugger-shell-live2'], status: item.status });
  });

  it("capture's own flags take their values, so the pod still completes after them", async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app']));
    for (const line of ['capture -i eth0 w', 'capture -f port w', "capture --count 10 w", 'capture --duration 30s w', 'capture -w out.pcap w'])
      expect(await complete(cluster, line)).toEqual(['web-1', ':4']);
    expect(await complete(cluster, 'capture web-1 --co')).toEqual(['--context', '--count', '--container', ':4']);
  });

  it('offers flag names from the command definitions (hidden ones not)', async () => {
    expect(await complete(new FakeCluster(), 'net web --n')).toEqual(['--namespace', '--name', '--no-attach', '--new', ':4']);
    expect(await complete(new FakeCluster(), 'net web --k')).toEqual(['--kubeconfig', ':4']);
    expect(await complete(new FakeCluster(), 'crashloop web --k')).toEqual(['--kubeconfig', '--keepalive', '--keep', '--keep-labels', '--keep-annotations', '--keep-liveness', '--keep-readiness', '--keep-startup', ':4']);
    expect(await complete(new FakeCluster(), 'cleanup --all')).toEqual(['--all-namespaces', '--all-users', ':4']);
  });

  it('offers workload prefixes for a pod, without a space after a lone prefix; pod/ completes pod names', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app']));
    expect(await complete(cluster, 'net dep')).toEqual(['deploy/', ':6']);
    expect(await complete(cluster, 'net j')).toEqual(['job/', ':6']);
    expect(await complete(cluster, 'net w')).toEqual(['web-1', ':4']);
    expect(WORKLOAD_PREFIXES).toEqual(['pod/', 'deploy/', 'sts/', 'ds/', 'rs/', 'job/']);
    expect(await complete(cluster, 'net pod/')).toEqual(['pod/web-1', ':4']);
    expect(await complete(cluster, 'net sts/')).toEqual([':4']);
  });

  it.each([
    ['deploy/', 'deployment'],
    ['sts/', 'statefulset'],
    ['ds/', 'daemonset'],
    ['rs/', 'replicaset'],
    ['job/', 'job'],
  ])('completes %s with the names of that kind in the namespace of -n', async (prefix, kind) => {
    const cluster = new FakeCluster().withWorkloads('shop', kind, 'web', 'worker').withWorkloads('default', kind, 'other');
    expect(await complete(cluster, `shell -n shop ${prefix}w`)).toEqual([`${prefix}web`, `${prefix}worker`, ':4']);
    expect(cluster.calls.map((c) => [c.fn, c.namespace])).toEqual([[`listWorkloads ${kind}`, 'shop']]);
  });

  it('crashloop offers the failing pods first, the others after', async () => {
    const crashing = (name: string): CompletionPod => ({
      ...pod(name, ['app']),
      status: { containerStatuses: [{ name: 'app', image: 'a', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
    });
    const healthy = (name: string): CompletionPod => ({ ...pod(name, ['app']), status: { containerStatuses: [{ name: 'app', image: 'a', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } });
    const cluster = new FakeCluster().withPods('default', healthy('api-1'), crashing('web-1'), healthy('db-1'), crashing('job-2'));
    expect(await complete(cluster, 'crashloop ')).toEqual(['web-1', 'job-2', 'api-1', 'db-1', ':4']);
    expect(await complete(cluster, 'shell ')).toEqual(['api-1', 'web-1', 'db-1', 'job-2', ':4']);
  });

  it('the values of the new flags: --profile, --image-pull-policy, --target (containers), --custom (files)', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app', 'side']));
    expect(await complete(cluster, 'shell web-1 --profile ')).toEqual(['general', 'baseline', 'restricted', 'netadmin', 'sysadmin', 'legacy', ':4']);
    expect(await complete(cluster, 'shell web-1 --image-pull-policy ')).toEqual(['Always', 'IfNotPresent', 'Never', ':4']);
    expect(await complete(cluster, 'shell web-1 --target ')).toEqual(['app', 'side', ':4']);
    expect(await complete(cluster, 'shell web-1 --custom ')).toEqual([':0']);
  });

  it('--set-image: kubectl\'s NAME=IMAGE, the pod\'s containers and * (no space: the image follows), pairs after a comma, nothing once the image is typed', async () => {
    const cluster = new FakeCluster().withPods('shop', { ...pod('web-1', ['app', 'side']), initContainers: ['init'] });
    // spec.containers only: kubectl's --set-image leaves init containers alone, and so does the copy.
    expect(await complete(cluster, 'crashloop web-1 -n shop --copy --set-image ')).toEqual(['app=', 'side=', '*=', ':6']);
    expect(await complete(cluster, 'crashloop web-1 -n shop --set-image s')).toEqual(['side=', ':6']);
    expect(await complete(cluster, 'crashloop web-1 -n shop --set-image=')).toEqual(['--set-image=app=', '--set-image=side=', '--set-image=*=', ':6']);
    expect(await complete(cluster, 'crashloop web-1 -n shop --set-image app=busybox:1.36,')).toEqual(['app=busybox:1.36,side=', 'app=busybox:1.36,*=', ':6']);
    expect(await complete(cluster, 'crashloop web-1 -n shop --set-image app=busy')).toEqual([':4']);
    // No pod named yet, or one the namespace does not have: nothing to offer.
    expect(await complete(cluster, 'crashloop -n shop --set-image ')).toEqual([':4']);
    expect(await complete(cluster, 'crashloop gone -n shop --set-image ')).toEqual([':4']);
    // The pod still completes after a whole pair.
    expect(await complete(cluster, 'crashloop --copy --set-image app=busybox:1.36 -n shop w')).toEqual(['web-1', ':4']);
  });

  it('--copy-to takes a new name (nothing to offer, no files); the --keep-* booleans take no word, true or false after =', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app']));
    expect(await complete(cluster, 'crashloop web-1 --copy-to ')).toEqual([':4']);
    expect(await complete(cluster, 'crashloop --keep-labels w')).toEqual(['web-1', ':4']);
    expect(await complete(cluster, 'crashloop web-1 --keep-liveness=')).toEqual(['--keep-liveness=true', '--keep-liveness=false', ':4']);
    expect(await complete(cluster, 'crashloop web-1 --keep-init-containers=f')).toEqual(['--keep-init-containers=false', ':4']);
    expect(await complete(cluster, 'crashloop web-1 --no-k')).toEqual(['--no-keep-init-containers', ':4']);
  });

  it('offers node/ to preset commands, then node names; the other commands take pods only', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app']));
    expect(await complete(cluster, 'shell n')).toEqual(['node/', ':6']);
    expect(await complete(cluster, 'shell node/w')).toEqual(['node/worker-1', 'node/worker-2', ':4']);
    expect(await complete(cluster, 'attach d')).toEqual([':4']);
    expect(await complete(cluster, 'capture w')).toEqual(['web-1', ':4']);
  });

  it('offers -o choices by command', async () => {
    const cluster = new FakeCluster();
    expect(await complete(cluster, 'presets -o ')).toEqual(['wide', 'json', 'yaml', ':4']);
    expect(await complete(cluster, 'list --output=j')).toEqual(['--output=json', ':4']);
    expect(await complete(cluster, 'net web-1 --dry-run server -o ')).toEqual(['json', 'yaml', ':4']);
  });

  it('offers the Pod Security levels for --level', async () => {
    const cluster = new FakeCluster();
    expect(await complete(cluster, 'net web-1 --level ')).toEqual(['privileged', 'baseline', 'restricted', ':4']);
    expect(await complete(cluster, 'net web-1 --level=r')).toEqual(['--level=restricted', ':4']);
  });

  it('offers kubeconfig contexts for --context and namespaces for -n', async () => {
    const cluster = new FakeCluster().withContexts('dev', 'prod').withNamespaces('default', 'shop');
    expect(await complete(cluster, 'net --kubeconfig /tmp/kc --context ')).toEqual(['dev', 'prod', ':4']);
    expect(cluster.calls[0]).toMatchObject({ fn: 'contexts', flags: { kubeconfig: '/tmp/kc' } });
    expect(await complete(cluster, 'net -n s')).toEqual(['shop', ':4']);
  });

  it('leaves --kubeconfig and --record to file completion, --dir to directories', async () => {
    expect(await complete(new FakeCluster(), 'net --kubeconfig ')).toEqual([':0']);
    expect(await complete(new FakeCluster(), 'net web-1 --record=')).toEqual([':0']);
    expect(await complete(new FakeCluster(), 'capture web-1 -w ')).toEqual([':0']);
    expect(await complete(new FakeCluster(), 'sessions --dir ')).toEqual([':16']);
  });

  it('takes the word after --dry-run only when it is a dry-run mode (cleanup has a plain --dry-run)', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app']));
    expect(await complete(cluster, 'cleanup --dry-run w')).toEqual(['web-1', ':4']);
    expect(await complete(cluster, 'net --dry-run server w')).toEqual(['web-1', ':4']);
    expect(await complete(cluster, 'net --dry-run=')).toEqual(['--dry-run=client', '--dry-run=server', ':4']);
  });

  it('completes nothing of its own after --: that is the command run in the container', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app']));
    expect(await complete(cluster, 'net web-1 -- ')).toEqual([':4']);
    expect(cluster.calls).toEqual([]);
  });

  it('skips -v with or without its level', async () => {
    const cluster = new FakeCluster().withPods('default', pod('web-1', ['app']));
    expect(await complete(cluster, 'net -v 6 w')).toEqual(['web-1', ':4']);
    expect(await complete(cluster, 'net -v w')).toEqual(['web-1', ':4']);
  });

  it('offers nothing, quietly, when the cluster cannot answer', async () => {
    const cluster = new FakeCluster().failing(new Error('no answer within 1000ms'));
    expect(await complete(cluster, 'net ')).toEqual([':4']);
    expect(await complete(cluster, 'net -n ')).toEqual([':4']);
    // The workload prefixes are the plugin's own: still offered.
    expect(await complete(cluster, 'net d')).toEqual(['deploy/', 'ds/', ':6']);
  });

  it('offers nothing for an unknown flag value', async () => {
    expect(await complete(new FakeCluster(), 'net --bogus=')).toEqual([':4']);
  });
});
