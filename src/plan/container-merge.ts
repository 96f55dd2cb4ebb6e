// A partial container spec merged over a built one, the way kubectl debug --custom merges its file
// (a strategic merge patch with the Container type's rules): objects merge field by field, `null`
// removes a field, the lists Kubernetes merges by a key (env by name, volumeMounts by mountPath,
// ports by containerPort, volumeDevices by devicePath) merge item by item, every other list is
// replaced. The container flags (--env, --image-pull-policy ...) are such partial specs too, so a
// new container-shaping flag needs no code here.
import type { V1Container } from '@kubernetes/client-node';

/** A partial container spec: what --custom holds, and what each container flag amounts to. */
export type PartialContainer = Record<string, unknown>;

/** The container lists merged by a key (patchMergeKey in k8s.io/api core/v1 Container); others are replaced. */
const MERGE_KEYS: Readonly<Record<string, string>> = { env: 'name', volumeMounts: 'mountPath', ports: 'containerPort', volumeDevices: 'devicePath' };

/** The fields --custom may not set (kubectl debug's Validate: the tool owns them). */
export const CUSTOM_FORBIDDEN_FIELDS = ['name', 'command', 'image', 'lifecycle', 'volumeDevices'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `base` with each of `partials` merged over it in order. Pure: neither input is changed. */
export function mergeContainer<T extends V1Container>(base: T, partials: readonly PartialContainer[]): T {
  let out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const partial of partials) out = mergeObject(out, partial, true);
  return out as unknown as T;
}

function mergeObject(base: Record<string, unknown>, patch: Record<string, unknown>, top: boolean): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (top && key in MERGE_KEYS && Array.isArray(value)) out[key] = mergeByKey(Array.isArray(out[key]) ? (out[key] as unknown[]) : [], value, MERGE_KEYS[key]!);
    else if (isObject(value) && isObject(out[key])) out[key] = mergeObject(out[key] as Record<string, unknown>, value, false);
    else out[key] = structuredClone(value);
  }
  return out;
}

/** Items with the key of an existing item merge into it, in its place; the others are appended. */
function mergeByKey(base: unknown[], patch: unknown[], key: string): unknown[] {
  const out = [...base];
  for (const item of patch) {
    const at = isObject(item) ? out.findIndex((b) => isObject(b) && b[key] === item[key]) : -1;
    if (at >= 0) out[at] = mergeObject(out[at] as Record<string, unknown>, item as Record<string, unknown>, false);
    else out.push(structuredClone(item));
  }
  return out;
}
