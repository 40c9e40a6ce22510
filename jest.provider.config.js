/**
 * `npm run test:provider`: the real-provider suite (__tests__/provider/). Every golden case is
 * planned by real Terraform with the real hashicorp/aws provider, from a filesystem mirror, offline
 * (see helpers/real-provider.ts). Needs Terraform and the mirror, not root; not part of `npm test`,
 * and it fails, naming what is missing, without them (`.ci/run` checks both).
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/__tests__/provider'],
  testPathIgnorePatterns: ['/node_modules/'],
  // The suite runs its Terraform processes in a pool of its own (REAL_PROVIDER_JOBS), sized for the
  // 2 cores: a second jest worker would only compete with it.
  maxWorkers: 1,
  testTimeout: 120000,
};
