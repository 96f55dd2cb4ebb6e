// Test data builders for Pods, shared by the unit suites (plain objects) and the integration
// suites (objects sent to the local API server).
//
//   const pod = aPod('web').inNamespace(ns).withContainer('app', { image: 'nginx' })
//     .withNodeName('127.0.0.1').build();
import type { DebugOptions } from '../../src/debug/request';

export interface ContainerOptions {
  image?: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  stdin?: boolean;
  tty?: boolean;
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  /** Only for init containers: 'Always' makes a sidecar. */
  restartPolicy?: 'Always';
  [k: string]: unknown;
}

const DEFAULT_IMAGE = 'busybox:1.36';

function container(name: string, opts: ContainerOptions): Record<string, unknown> {
  const { env, image, ...rest } = opts;
  const c: Record<string, unknown> = { name, image: image ?? DEFAULT_IMAGE, ...rest };
  if (env) c.env = Object.entries(env).map(([n, value]) => ({ name: n, value }));
  return c;
}

export class PodBuilder {
  private metadata: Record<string, any>;
  private spec: Record<string, any> = { containers: [] };
  private status: Record<string, any> | undefined;

  constructor(name: string) {
    this.metadata = { name };
  }

  inNamespace(namespace: string): this {
    this.metadata.namespace = namespace;
    return this;
  }

  withLabels(labels: Record<string, string>): this {
    this.metadata.labels = { ...(this.metadata.labels ?? {}), ...labels };
    return this;
  }

  withAnnotations(annotations: Record<string, string>): this {
    this.metadata.annotations = { ...(this.metadata.annotations ?? {}), ...annotations };
    return this;
  }

  withContainer(name: string, opts: ContainerOptions = {}): this {
    this.spec.containers.push(container(name, opts));
    return this;
  }

  withInitContainer(name: string, opts: ContainerOptions = {}): this {
    (this.spec.initContainers ??= []).push(container(name, opts));
    return this;
  }

  /** An already-present ephemeral container (for unit tests; the API refuses them on create). */
  withEphemeralContainer(name: string, opts: ContainerOptions & { targetContainerName?: string } = {}): this {
    (this.spec.ephemeralContainers ??= []).push(container(name, opts));
    return this;
  }

  /** Binds the pod to a node directly, past the scheduler (e.g. to the fake node no kubelet runs, whose statuses the tests write). */
  withNodeName(nodeName: string): this {
    this.spec.nodeName = nodeName;
    return this;
  }

  withServiceAccount(name: string): this {
    this.spec.serviceAccountName = name;
    return this;
  }

  withShareProcessNamespace(share = true): this {
    this.spec.shareProcessNamespace = share;
    return this;
  }

  withPodSecurityContext(sc: Record<string, unknown>): this {
    this.spec.securityContext = { ...(this.spec.securityContext ?? {}), ...sc };
    return this;
  }

  /** Pod-level settings that pass Pod Security `restricted` when each container also sets
   *  allowPrivilegeEscalation=false and drops ALL capabilities (see restrictedContainer). */
  withRestrictedSecurity(): this {
    return this.withPodSecurityContext({ runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } });
  }

  withVolume(volume: Record<string, unknown>): this {
    (this.spec.volumes ??= []).push(volume);
    return this;
  }

  withEmptyDir(name: string): this {
    return this.withVolume({ name, emptyDir: {} });
  }

  withOwner(kind: string, name: string, uid = '00000000-0000-0000-0000-000000000000', apiVersion = 'apps/v1'): this {
    (this.metadata.ownerReferences ??= []).push({ apiVersion, kind, name, uid, controller: true });
    return this;
  }

  withTerminationGracePeriod(seconds: number): this {
    this.spec.terminationGracePeriodSeconds = seconds;
    return this;
  }

  withSpec(extra: Record<string, unknown>): this {
    Object.assign(this.spec, extra);
    return this;
  }

  /** A status for unit tests (on a live cluster use the helpers in cluster.ts instead). */
  withStatus(status: Record<string, unknown>): this {
    this.status = { ...(this.status ?? {}), ...status };
    return this;
  }

  build(): Record<string, any> {
    if (this.spec.containers.length === 0) this.spec.containers.push(container('app', {}));
    const pod: Record<string, any> = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: structuredClone(this.metadata),
      spec: structuredClone(this.spec),
    };
    if (this.status) pod.status = structuredClone(this.status);
    return pod;
  }
}

export function aPod(name: string): PodBuilder {
  return new PodBuilder(name);
}

/** Container options that pass Pod Security `restricted` (with PodBuilder.withRestrictedSecurity). */
export function restrictedContainer(opts: ContainerOptions = {}): ContainerOptions {
  return {
    ...opts,
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      ...(opts.securityContext ?? {}),
    },
  };
}

export class NodeBuilder {
  private metadata: Record<string, any>;
  private spec: Record<string, any> = {};
  private conditions: Record<string, any>[] = [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }];

  constructor(name: string) {
    this.metadata = { name, labels: { 'kubernetes.io/hostname': name } };
  }

  withUid(uid: string): this {
    this.metadata.uid = uid;
    return this;
  }

  withTaint(key: string, effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' = 'NoSchedule', value?: string): this {
    (this.spec.taints ??= []).push({ key, effect, ...(value ? { value } : {}) });
    return this;
  }

  /** Replaces the Ready condition (status 'False' or 'Unknown', with the kubelet's reason and message). */
  withReady(status: 'True' | 'False' | 'Unknown', reason?: string, message?: string): this {
    this.conditions = [{ type: 'Ready', status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) }];
    return this;
  }

  withoutConditions(): this {
    this.conditions = [];
    return this;
  }

  build(): Record<string, any> {
    return { apiVersion: 'v1', kind: 'Node', metadata: structuredClone(this.metadata), spec: structuredClone(this.spec), status: { conditions: structuredClone(this.conditions) } };
  }
}

/** A Ready node: aNode('worker-1').withTaint('dedicated').build(). */
export function aNode(name: string): NodeBuilder {
  return new NodeBuilder(name);
}

/** The parsed flags of `kubectl ephemeral shell web` with nothing else given; `over` sets the rest. */
export function aDebugOptions(over: Partial<DebugOptions> = {}): DebugOptions {
  return {
    preset: 'shell',
    pod: 'web',
    command: [],
    attach: true,
    timeout: '2m',
    privileged: false,
    copy: false,
    keepalive: 'sleep infinity',
    keep: false,
    detachKeys: 'ctrl-p,ctrl-q',
    recordInput: false,
    quiet: false,
    kube: { verbosity: 0 },
    ...over,
  };
}
