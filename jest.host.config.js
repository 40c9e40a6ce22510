/**
 * `npm run test:host`: the host end-to-end suite (__tests__/host/). It starts sshd on 127.0.0.1,
 * creates throwaway users with sudo rights and runs Terraform against them: root only, with
 * openssh-server, sudo, dash, shellcheck and Terraform installed (`.ci/run` sees to that on CI).
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/__tests__/host'],
  testPathIgnorePatterns: ['/node_modules/'],
  // A destroy against a stopped sshd waits for the connection timeout the stack sets (read from
  // the synthesized JSON by that test, which sets its own bound from it).
  testTimeout: 120000,
};
