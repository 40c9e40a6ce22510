/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  // Type-checking is done once by `tsc` in `npm test`; here ts-jest only transpiles (fast), because
  // tsconfig.json sets isolatedModules.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // Many suites wait on child processes (sh, dash, sshd, the cdktf CLI): two workers keep both
  // cores busy on the 2-core CI machine (jest's default there would be one).
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
  testTimeout: 30000,
};
