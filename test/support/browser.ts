/**
 * Real-browser test support: Debian's headless Chromium driven by playwright-core, against the
 * console the server serves from packages/console/dist.
 *
 *   browserUnavailable(): string | null     why the browser tests cannot run here (null: they can);
 *                                           throws under CI=true, where they must run
 *   launchBrowser(): Promise<Browser>       one per test file; checks the console is built first
 *   snapshotConsole()                       a private copy of the built console, for the server's consoleDir:
 *                                           a rebuild during the run (another terminal) cannot pull the
 *                                           hashed assets from under an open page
 *   newPage(browser | context)              a page whose console errors, page errors, failed and refused
 *                                           requests, CSP violations and dialogs are recorded
 *   screenshot(page, name)                  full-page PNG in test-results/screenshots/<name>.png
 *   login(page, baseUrl, user, password)    through the real sign-in form
 *
 * Chromium is /usr/bin/chromium (Debian's package) unless BRIER_CHROMIUM names another binary.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export const CHROMIUM = process.env.BRIER_CHROMIUM || '/usr/bin/chromium';
export const CONSOLE_DIST = path.join(REPO, 'packages/console/dist');
export const SCREENSHOTS = path.join(REPO, 'test-results/screenshots');

export const CONSOLE_NOT_BUILT =
  `The console is not built (${path.relative(REPO, path.join(CONSOLE_DIST, 'index.html'))} is missing): ` +
  'run npm run bundle -w @brier/console (npm test does it before vitest)';

/**
 * Why the browser tests cannot run on this machine, or null when they can. Without Chromium they
 * skip with this reason, except in CI (CI=true), where every test must run: there it throws.
 */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const reason = `Chromium not found at ${CHROMIUM} (Debian: apt-get install chromium, or set BRIER_CHROMIUM to a Chromium binary)`;
  if (process.env.CI === 'true') throw new Error(`${reason}. CI=true, so refusing to skip the browser tests.`);
  return reason;
}

/** Fails with the command to run when the console has not been built. */
export function assertConsoleBuilt(): void {
  if (!existsSync(path.join(CONSOLE_DIST, 'index.html'))) throw new Error(CONSOLE_NOT_BUILT);
}

/** Copies packages/console/dist to a temporary directory; serve it with config `consoleDir`. */
export async function snapshotConsole(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  assertConsoleBuilt();
  const dir = await mkdtemp(path.join(tmpdir(), 'brier-console-'));
  await cp(CONSOLE_DIST, dir, { recursive: true });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function launchBrowser(): Promise<Browser> {
  assertConsoleBuilt();
  const reason = browserUnavailable();
  if (reason) throw new Error(reason);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** What went wrong on a page, as the page saw it. Tests assert on these at the end. */
export interface PageRecord {
  /** console.error messages (including the browser's own "Refused to …" and "Failed to load resource" lines). */
  consoleErrors: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** Requests that got no response at all (`<method> <url>: <error>`), e.g. refused, reset, aborted. */
  failedRequests: string[];
  /** Responses with a 4xx or 5xx status (`<status> <method> <url>`). */
  httpErrors: string[];
  /** Content-Security-Policy violations (`<directive> <blocked uri>`), from the page's securitypolicyviolation events. */
  cspViolations: string[];
  /** alert/confirm/prompt/beforeunload messages: the console has none, so one would mean injected script ran. */
  dialogs: string[];
}

export interface RecordedPage {
  page: Page;
  record: PageRecord;
}

const pageRecords = new WeakMap<Page, PageRecord>();

/**
 * A new page (in its own context when given the browser, so its cookies are its own; in `target`
 * when given a context) with everything that goes wrong recorded. Dialogs are dismissed.
 */
export async function newPage(target: Browser | BrowserContext): Promise<RecordedPage> {
  const context = 'newContext' in target ? await target.newContext({ viewport: { width: 1400, height: 900 } }) : target;
  const page = await context.newPage();
  const record: PageRecord = { consoleErrors: [], pageErrors: [], failedRequests: [], httpErrors: [], cspViolations: [], dialogs: [] };
  pageRecords.set(page, record);
  // Init scripts and bindings run through the DevTools protocol, outside the page's CSP.
  await page.exposeBinding('__brierCspViolation', (_source, text: string) => {
    record.cspViolations.push(text);
  });
  // A string, not a function: the tests are typechecked without the DOM library.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => {
      window.__brierCspViolation(e.violatedDirective + ' ' + e.blockedURI + ' (' + e.sourceFile + ':' + e.lineNumber + ')');
    });`,
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    record.consoleErrors.push(text);
    // Some violations (e.g. in a worker) only show up as the browser's console line about the policy.
    if (/^Refused to .*Content Security Policy/.test(text)) record.cspViolations.push(text);
  });
  page.on('pageerror', (error) => {
    record.pageErrors.push(error.stack ?? error.message);
  });
  page.on('requestfailed', (request) => {
    record.failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText ?? 'failed'}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) record.httpErrors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  page.on('dialog', (dialog) => {
    record.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => {});
  });
  return { page, record };
}

/** The record of a page made by newPage. */
export function recordOf(page: Page): PageRecord {
  const record = pageRecords.get(page);
  if (!record) throw new Error('this page was not made by newPage()');
  return record;
}

/**
 * What a page recorded that a healthy console never causes: page errors, CSP violations, dialogs,
 * console errors and HTTP errors other than those `expected` matches (e.g. the 401 of /auth/me before
 * signing in), and failed requests other than aborted ones (a navigation cancels what the old screen
 * was still loading).
 */
export function problems(record: PageRecord, expected: readonly RegExp[] = []): string[] {
  const allowed = (s: string) => expected.some((r) => r.test(s));
  return [
    ...record.pageErrors.map((s) => `page error: ${s}`),
    ...record.cspViolations.map((s) => `CSP violation: ${s}`),
    ...record.dialogs.map((s) => `dialog: ${s}`),
    ...record.httpErrors.filter((s) => !allowed(s)).map((s) => `HTTP error: ${s}`),
    // "Failed to load resource" lines repeat the HTTP errors above (the console line does not name the URL).
    ...record.consoleErrors.filter((s) => !/^Failed to load resource/.test(s) && !allowed(s)).map((s) => `console error: ${s}`),
    ...record.failedRequests.filter((s) => !/ERR_ABORTED/.test(s) && !allowed(s)).map((s) => `failed request: ${s}`),
  ];
}

/** A full-page PNG at test-results/screenshots/<name>.png (test-results/ is git-ignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw new Error(`screenshot name must be lower-case words and dashes, got ${JSON.stringify(name)}`);
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

/** Opens the console and signs in through its form; resolves once the signed-in shell shows the user. */
export async function login(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 30_000 });
}
