/**
 * Debian's Chromium, headless, driven by playwright-core (which downloads no browser). The browser
 * tests need it: when it is missing they fail with how to install it (`.ci/run` installs it), they
 * are never skipped. CHROMIUM_PATH points elsewhere.
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { type Browser, type Page, chromium } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export async function launchChromium (): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`)
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
  return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
}

/**
 * A page that may reach 127.0.0.1 only: any other request is aborted and recorded in `external`
 * (the app must make none). Console errors are recorded in `errors`.
 */
export async function loopbackPage (browser: Browser): Promise<{ page: Page, external: string[], errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } })
  const page = await context.newPage()
  // a step that waits fails with its own message before the test's timeout
  page.setDefaultTimeout(15_000)
  const external: string[] = []
  const errors: string[] = []
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url())
    if (url.protocol === 'data:' || url.hostname === '127.0.0.1') return await route.continue()
    external.push(url.href)
    return await route.abort()
  })
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
  page.on('pageerror', (e) => errors.push(e.message))
  return { page, external, errors }
}

/** test-artifacts/<name>/ under the repository (gitignored), made if missing. */
export async function artifactDir (name: string): Promise<string> {
  const dir = fileURLToPath(new URL(`../../test-artifacts/${name}/`, import.meta.url))
  await mkdir(dir, { recursive: true })
  return dir
}
