/**
 * Headless Chromium for page tests: Debian's package (`/usr/bin/chromium`, installed by
 * `.ci/run`; `CHROMIUM_PATH` overrides), driven by playwright-core, never a downloaded build.
 * When it is missing, `chromiumOrSkipReason()` says why so the suite can skip out loud.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];

/** test-results/ at the repository root (gitignored). */
export const RESULTS_DIR = fileURLToPath(new URL('../../test-results', import.meta.url));

export function chromiumPath(): string {
  return process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
}

/** null when Chromium can run here, else the reason to print when skipping. */
export function chromiumOrSkipReason(): string | null {
  const path = chromiumPath();
  try {
    accessSync(path, constants.X_OK);
    return null;
  } catch {
    return `no executable Chromium at ${path} (install Debian's chromium, as .ci/run does, or set CHROMIUM_PATH)`;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

/** Full-page PNG under test-results/; returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
