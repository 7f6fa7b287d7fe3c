import { defineConfig } from 'vitest/config';

// Two projects: unit tests run in parallel, one forked process per file; scenarios and the
// short soak look at time, so they run afterwards, one file at a time, on an otherwise idle machine.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/*.test.ts'],
          sequence: { groupOrder: 0 },
          setupFiles: ['test/helpers/fd-leak-check.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'serial',
          include: ['test/scenarios/*.test.ts', 'test/soak/*.test.ts'],
          // After every unit file (groupOrder), one file at a time: nothing else loads the CPU.
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          setupFiles: ['test/helpers/fd-leak-check.ts'],
        },
      },
    ],
  },
});
