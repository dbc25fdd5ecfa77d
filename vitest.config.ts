import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{drivers,gateway,cloud-bridge,config,installer,hardware-tests}/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real peers on loopback ports; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});
