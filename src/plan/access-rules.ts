/** A resource rule as a SelfSubjectRulesReview reports it. */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/**
 * Whether the rules grant verb on a core-group resource ("pods/ephemeralcontainers"). Rules limited
 * to resourceNames do not count: the plugin needs the verb on any pod of the namespace.
 */
export function rulesAllow(rules: ResourceRule[], verb: string, resource: string): boolean {
  const [base] = resource.split('/');
  return rules.some(
    (r) =>
      (r.verbs.includes(verb) || r.verbs.includes('*')) &&
      (r.apiGroups ?? []).some((g) => g === '' || g === '*') &&
      (r.resources ?? []).some((x) => x === resource || x === '*' || (resource.includes('/') && x === `${base}/*`)) &&
      !(r.resourceNames ?? []).length,
  );
}
