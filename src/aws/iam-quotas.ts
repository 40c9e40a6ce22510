/**
 * IAM quotas this project designs around (AWS "IAM and AWS STS quotas"). A leaf: the config
 * schema (the grant limit) and src/iam/limits.ts (policy sizes, the review's quota notice) both
 * read them from here. Policy sizes are characters of the JSON, whitespace not counted.
 */
export const IAM_QUOTAS = {
  /** All inline policies of one role together (hard limit). */
  inlinePoliciesPerRole: 10_240,
  /** One customer managed policy (hard limit). */
  managedPolicy: 6_144,
  /** One role trust policy: the default; a raise to 4,096 can be requested. */
  trustPolicy: 2_048,
  /** Roles per account: the default quota. */
  rolesPerAccount: 1_000,
  /** Roles per account: the most a raise can give. */
  rolesPerAccountMax: 5_000,
} as const;
