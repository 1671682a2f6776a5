import type { ErrorCode } from '@brier/protocol';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per server instance (never prom-client's global), so tests can build many servers. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'brier_' });
  const httpDuration = new Histogram({
    name: 'brier_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const agentsConnected = new Gauge({ name: 'brier_agents_connected', help: 'Authenticated agent connections', registers: [registry] });
  const handshakesRejected = new Counter({
    name: 'brier_agent_handshakes_rejected_total',
    help: 'Upgrades refused by the handshake rate limit',
    registers: [registry],
  });
  const protocolErrors = new Counter({
    name: 'brier_agent_protocol_errors_total',
    help: 'Agent messages refused, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const packagesIngested = new Counter({
    name: 'brier_inventory_packages_ingested_total',
    help: 'Package rows received in inventory reports',
    labelNames: ['mode'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    gateway: {
      handshakeRejected: () => handshakesRejected.inc(),
      sessionOpened: () => agentsConnected.inc(),
      sessionClosed: () => agentsConnected.dec(),
      protocolError: (code: ErrorCode) => protocolErrors.inc({ code }),
    },
    inventoryIngested: (mode: 'full' | 'delta', packages: number) => packagesIngested.inc({ mode }, packages),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
