import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { chromium, type Browser } from 'playwright-core';

/**
 * Browser tests drive the system chromium (Debian: `apt-get install chromium`) through
 * playwright-core; no browser is downloaded. CHROMIUM_PATH overrides the location.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true, timeout: 30_000 });
}

/**
 * `describe` for browser tests. Without chromium the suite is skipped with a loud warning —
 * except on CI (`CI=true`), where a missing browser fails the run instead of silently passing.
 */
export function describeBrowser(name: string, fn: () => void): void {
  if (chromiumAvailable()) {
    describe(name, fn);
    return;
  }
  const message = `BROWSER TESTS SKIPPED: chromium not found at ${CHROMIUM_PATH} (install chromium or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      test('chromium is installed (required on CI)', () => {
        throw new Error(message.replace('SKIPPED', 'FAILED'));
      });
    });
    return;
  }
  const banner = '!'.repeat(message.length + 8);
  // eslint-disable-next-line no-console
  console.warn(`\n${banner}\n!!! ${message} !!!\n${banner}\n`);
  describe.skip(name, fn);
}

/** Starts the app on a random free port; returns its base URL and a stop function. */
export async function listen(app: Express): Promise<{ baseUrl: string; server: Server; stop(): Promise<void> }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
