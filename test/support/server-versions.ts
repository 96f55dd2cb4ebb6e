// Where the Kubernetes versions of the matrix (scripts/versions.sh: the default plus
// K8S_MATRIX_VERSIONS) differ in what the plugin meets, as data: a test reads the row of the server
// it runs against and expects that, so a difference is asserted on every version, never skipped.
// Each row was measured against a real API server of that version (npm run test:versions).
import { clusterEnv } from './cluster';

/** What one Kubernetes minor version answers where the matrix found versions to differ. */
export interface ServerExpectations {
  /** The kind /api/v1 discovery names for pods/ephemeralcontainers (the preflight's "too old" test). */
  ephemeralContainersKind: string;
  /** authentication.k8s.io/v1 SelfSubjectReview is served (GA in 1.28): token users get a name. */
  selfSubjectReview: boolean;
  /**
   * Pod Security's baseline check "probe or lifecycle host" (new in 1.34): a pod whose probe or
   * lifecycle hook names a host is refused whole, so no debug container can join it.
   */
  podSecurityProbeHost: boolean;
  /**
   * procMount "Unmasked" without hostUsers: false: "reset to Default" while the ProcMountType gate
   * is off (the server admits the container with procMount Default), "invalid" once it is on (422).
   */
  procMountUnmasked: 'reset to Default' | 'invalid';
  /**
   * ContainerStatus.user (KEP-3619, added in 1.31) is kept: a runtime can tell the target's uid. An
   * older server drops the field, and the plugin then reads the target as naming no user.
   */
  containerStatusUser: boolean;
  /**
   * kubectl's, not the server's: the kubectl that follows this server's version (a version-following
   * dispatcher such as the Google Cloud SDK's) has `kubectl debug --keep-*` (1.31 and later); before,
   * it refuses them and its copies keep labels and annotations.
   */
  kubectlCopyKeeps: boolean;
  /** kubectl's too: `kubectl debug --custom` (1.31 and later; 1.30's refuses it as an unknown flag). */
  kubectlCustom: boolean;
}

const BY_MINOR: Readonly<Record<number, ServerExpectations>> = {
  30: { ephemeralContainersKind: 'Pod', selfSubjectReview: true, podSecurityProbeHost: false, procMountUnmasked: 'reset to Default', containerStatusUser: false, kubectlCopyKeeps: false, kubectlCustom: false },
  35: { ephemeralContainersKind: 'Pod', selfSubjectReview: true, podSecurityProbeHost: true, procMountUnmasked: 'invalid', containerStatusUser: true, kubectlCopyKeeps: true, kubectlCustom: true },
  37: { ephemeralContainersKind: 'Pod', selfSubjectReview: true, podSecurityProbeHost: true, procMountUnmasked: 'invalid', containerStatusUser: true, kubectlCopyKeeps: true, kubectlCustom: true },
};

/** The row for the cluster under test (its state dir's version); an unlisted minor fails: measure it and add its row. */
export function serverExpectations(version = clusterEnv().k8sVersion): ServerExpectations & { minor: number } {
  const minor = Number(/^v1\.(\d+)\./.exec(version)?.[1]);
  const row = BY_MINOR[minor];
  if (!row) throw new Error(`no expectations for Kubernetes ${version} in test/support/server-versions.ts: run the suite against it and add its row`);
  return { ...row, minor };
}
