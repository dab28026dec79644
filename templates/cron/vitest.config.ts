import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test bundles the workflows once (esbuild); give slow CI machines room.
    testTimeout: 30_000,
  },
});
