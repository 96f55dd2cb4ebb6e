/** The closed set of failures the plugin reports; each maps to one documented exit code. */
export type ErrorKind =
  | 'usage'
  | 'config'
  | 'not-found'
  | 'forbidden'
  | 'policy-rejected'
  | 'cluster-too-old'
  | 'unreachable'
  | 'timeout'
  | 'image-pull'
  | 'tool-failed'
  | 'incomplete'
  | 'warnings'
  | 'cancelled'
  | 'internal';

/** Exit codes, sysexits-style so they rarely collide with a debugged program's own (passed through). */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  usage: 64,
  config: 78,
  'not-found': 66,
  forbidden: 77,
  'policy-rejected': 65,
  'cluster-too-old': 72,
  unreachable: 69,
  timeout: 75,
  'image-pull': 76,
  'tool-failed': 71,
  incomplete: 74,
  // kubectl's own code for --warnings-as-errors.
  warnings: 1,
  cancelled: 130,
  internal: 70,
};

/** One line of what a user sees for each kind, for the README's exit code table. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ErrorKind, string>> = {
  usage: 'bad flags or arguments',
  config: 'a kubeconfig or user preset file is malformed (an exec plugin missing included), or a preset policy (reason, allowed images) refuses the request',
  'not-found': 'pod, container, namespace, context or kubeconfig not found',
  forbidden: 'RBAC denies a verb the command needs (named in the message), or the credentials are refused or cannot be had (exec plugin, OIDC refresh)',
  'policy-rejected': 'Pod Security admission rejects (or would reject) the debug container',
  'cluster-too-old': 'the API server has no usable ephemeralcontainers subresource (before 1.23)',
  unreachable: 'the API server cannot be reached',
  timeout: 'the debug container did not start within --timeout',
  'image-pull': 'the debug image cannot be pulled or the container cannot be created',
  'tool-failed': 'a tool the plugin runs failed (tcpdump in the capture container, kubectl); its own message is above',
  incomplete: 'cleanup could not end everything it found; what is left and why is printed',
  warnings: 'with --warnings-as-errors: the command ran, but the API server sent warnings (printed above as `Warning: ...`), as kubectl does',
  cancelled: 'interrupted by Ctrl-C or a signal before the session started',
  internal: 'anything else (a bug: rerun with -v and report it)',
};

/**
 * Why an error happened, as data callers branch on (never on the message's words). Set where the
 * cause is known (src/kube/translate-error.ts for the API server's answers); absent elsewhere.
 */
export type ErrorReason =
  /** The container name is taken in the pod (another debug container got it first). */
  | 'name-taken'
  /** Pod Security admission refused the object being created or the container being added. */
  | 'pod-security'
  /** Pod Security admission refused the whole pod a container was added to (not the container). */
  | 'pod-security-pod'
  /** The API server refused the credentials, or took the request as anonymous. */
  | 'unauthenticated'
  /** RBAC denies a verb. */
  | 'rbac'
  /** The API server has no pods/ephemeralcontainers subresource. */
  | 'no-ephemeral-containers'
  /** The object named does not exist. */
  | 'missing'
  /** The API server found the object invalid (HTTP 422). */
  | 'invalid'
  /** The object changed meanwhile (HTTP 409). */
  | 'conflict';

/** What a PluginError carries besides its kind and text. */
export interface PluginErrorOptions {
  cause?: unknown;
  reason?: ErrorReason;
  /** What the user can do, appended to the message after "; " (kept apart so a caller can offer another). */
  fix?: string;
}

/** A failure with a one-line, lowercase message that names the object and the fix. */
export class PluginError extends Error {
  /** Why, for callers that branch on it. */
  readonly reason?: ErrorReason;
  /** The problem without the fix (the whole message when no fix was given apart). */
  readonly problem: string;
  /** The fix, when given apart from the problem. */
  readonly fix?: string;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options: PluginErrorOptions = {},
  ) {
    super(options.fix ? `${message}; ${options.fix}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluginError';
    this.problem = message;
    if (options.reason) this.reason = options.reason;
    if (options.fix) this.fix = options.fix;
  }

  /** The same error with another fix (a caller that knows better what the user can do). */
  withFix(fix: string): PluginError {
    return new PluginError(this.kind, this.problem, { reason: this.reason, fix, cause: this.cause });
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

/** Shorthand constructors keep call sites to one readable line. */
export const usageError = (msg: string) => new PluginError('usage', msg);
export const notFound = (msg: string) => new PluginError('not-found', msg);

/** The command ran a program in the container that exited non-zero: pass its code through. */
export class ContainerExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'ContainerExit';
  }
}
