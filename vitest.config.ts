import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // compiles src/ to dist/ first: the tests that spawn bin/chorus.js run the compiled CLI, as shipped
    globalSetup: ['test/support/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
