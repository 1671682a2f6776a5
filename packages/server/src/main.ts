import { buildServer } from './app.js';
import { loadOrCreateServerIdentity } from './auth/server-identity.js';
import { loadWorkSigningKey } from './auth/work-signing-key.js';
import { ConfigError, parseConfig } from './config.js';
import { createJobs } from './jobs.js';
import { createLogger } from './logger.js';
import { openDatabase } from './store/index.js';

/** The only place that reads the environment, listens on a port and handles signals. */
async function main() {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`brier-server: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const started = Date.now();
  const identity = loadOrCreateServerIdentity(config.dataDir);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const workKey = loadWorkSigningKey(config.dataDir, identity, new Date());
  const app = await buildServer({ config, database, identity, workKey, logger });
  const admin = await app.services.auth.ensureAdmin(config.adminPassword);
  // Single-replica assumption for now: whatever was online before a restart is not any more.
  await app.services.hosts.markAllOffline();

  // The rollout engine advances on this tick and on every agent report.
  const jobs = createJobs(logger);
  jobs.schedule('rollouts.tick', '*/5 * * * * *', () => app.services.deployments.tick());
  // Scheduled vulnerability feeds (brier vulns feeds add): each runs when its own cron fired.
  jobs.schedule('vulns.feeds', '0 * * * * *', () => app.services.vulns.runDueFeeds());

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await jobs.stop();
      await app.close();
      await database.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ port: config.port, host: config.host });
  const port = app.server.address();
  const url = config.publicUrl ?? `http://localhost:${typeof port === 'object' && port ? port.port : config.port}`;
  logger.info(
    { address, database: database.kind, dataDir: config.dataDir, fingerprint: identity.fingerprint, readyMs: Date.now() - started },
    'server ready',
  );

  const lines = [
    '',
    `Brier is running at ${url}  (API docs: ${url}/docs, database: ${database.kind === 'pglite' ? `embedded, in ${config.dataDir}` : 'PostgreSQL'})`,
    `Console: open ${url}/ in a browser and sign in as admin.`,
    `Server key fingerprint: ${identity.fingerprint}`,
  ];
  if (admin?.generatedPassword) {
    lines.push(
      '',
      `First start: created user "admin" with password: ${admin.generatedPassword}`,
      '(shown once; set BRIER_ADMIN_PASSWORD before the first start to choose it)',
    );
  } else if (admin) {
    lines.push('', 'First start: created user "admin" with the password in BRIER_ADMIN_PASSWORD.');
  }
  lines.push(
    '',
    'Enroll the machine you are on (from the repository root, in another terminal; the console',
    'shows the same commands with a fresh join token under Settings -> Join tokens):',
    `  npx brier login --server ${url} --username admin`,
    '  npx brier tokens create --auto-approve            # prints a join token',
    `  npx brier-agent enroll --server ${url} --token <join token> --state-dir ./agent-state`,
    '  npx brier-agent run --state-dir ./agent-state',
    'As a service (root, state in /var/lib/brier-agent): see deploy/systemd/brier-agent.service.',
    '',
  );
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error('brier-server: failed to start:', err);
  process.exit(1);
});
