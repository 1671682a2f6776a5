export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  /** Exactly this actor (a username, `engine`, `policy` or `host:<id>`). */
  actor?: string | undefined;
  /** Actions starting with this (`deployment.` or `host.quarantine`). */
  action?: string | undefined;
  /** Exactly this target (a host, deployment or user id, a group name...). */
  target?: string | undefined;
  /** Text anywhere in the actor, action, target or detail, case-insensitive. */
  q?: string | undefined;
  limit: number;
  offset: number;
}

export interface AuditStore {
  record(entry: {
    actor: string;
    action: string;
    target?: string | null;
    detail?: Record<string, unknown> | null;
    at: Date;
  }): Promise<void>;
  /** Newest first; each filter narrows (all of them together). */
  list(query: AuditQuery): Promise<{ items: AuditEntry[]; total: number }>;
}
