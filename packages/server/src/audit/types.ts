export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditStore {
  record(entry: {
    actor: string;
    action: string;
    target?: string | null;
    detail?: Record<string, unknown> | null;
    at: Date;
  }): Promise<void>;
  list(query: { limit: number; offset: number }): Promise<{ items: AuditEntry[]; total: number }>;
}
