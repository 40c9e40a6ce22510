/**
 * `npm test`: everything that runs as any user, offline, with Node, `sh` and `curl` alone. The host suite
 * (__tests__/host/, `npm run test:host`, jest.host.config.js) needs root, sshd, sudo, shellcheck
 * and Terraform, and the real-provider suite (__tests__/provider/, `npm run test:provider`,
 * jest.provider.config.js) Terraform and the AWS provider in a filesystem mirror: both run on CI.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/__tests__/host/', '<rootDir>/__tests__/provider/'],
  // Type-checking is done once by `tsc` in `npm test`; here ts-jest only transpiles (fast), because
  // tsconfig.json sets isolatedModules.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // Many suites wait on child processes (sh, dash, the cdktf CLI): two workers keep both cores
  // busy on the 2-core CI machine (jest's default there would be one).
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
  testTimeout: 30000,
};
