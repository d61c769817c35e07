/**
 * Debian's Chromium for the browser tests, headless, with a fresh profile per launch (no state
 * from earlier runs or other tests) that `close()` removes again. CHROMIUM_PATH overrides where
 * it is (.ci/run installs /usr/bin/chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface LaunchedChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** `extraArgs`: more Chromium switches (a host-resolver rule, say). */
export async function launchChromium(extraArgs: string[] = []): Promise<LaunchedChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'agentq-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
