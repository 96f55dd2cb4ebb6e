/** A non-2xx answer from the API server, with its Status body when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: KubeStatus | undefined,
    readonly method: string,
    readonly path: string,
  ) {
    super(body?.message ?? `HTTP ${status} for ${method} ${path}`);
    this.name = 'ApiError';
  }

  /** The Status reason (NotFound, Forbidden, Invalid, Conflict, ...). */
  get reason(): string | undefined {
    return this.body?.reason;
  }
}

/** The parts of a metav1.Status the plugin reads. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: Array<{ reason?: string; message?: string; field?: string }> };
}
