import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** The page type of the tests' browser, so they need no dependency of their own. */
export type { Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); no browser is ever downloaded. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface BrowserHandle {
  browser: Browser;
  /**
   * A fresh context (its own cookies and storage) and page; `errors` collects what the page
   * reports as console errors and uncaught exceptions (a CSP violation is one).
   */
  newPage(options?: {
    viewport?: { width: number; height: number };
    colorScheme?: 'light' | 'dark';
    timezoneId?: string;
  }): Promise<{ context: BrowserContext; page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium for browser tests through playwright-core. As root (tests and CI
 * run as root) Chromium's own sandbox cannot start, so it runs with `--no-sandbox`; the
 * pages it opens are the controller's own, on loopback.
 */
export async function startBrowser(
  options: { executablePath?: string } = {},
): Promise<BrowserHandle> {
  const browser = await chromium
    .launch({
      executablePath: options.executablePath ?? CHROMIUM_PATH,
      headless: true,
      args: [
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
        '--disable-dev-shm-usage',
        '--disable-gpu',
      ],
    })
    .catch((error: unknown) => {
      throw new Error(
        `cannot start Chromium at ${options.executablePath ?? CHROMIUM_PATH} (npm test installs it; or apt-get install chromium): ${String(error)}`,
      );
    });
  return {
    browser,
    async newPage(pageOptions = {}) {
      const context = await browser.newContext({
        viewport: pageOptions.viewport ?? { width: 1280, height: 800 },
        colorScheme: pageOptions.colorScheme ?? 'light',
        timezoneId: pageOptions.timezoneId ?? 'UTC',
        locale: 'en-GB',
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      return { context, page, errors };
    },
    close: () => browser.close(),
  };
}
