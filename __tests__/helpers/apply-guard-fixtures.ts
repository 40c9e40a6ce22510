/**
 * The part of the bad-input corpus (fixtures/configs/invalid/) for configs that used to synthesize
 * and then fail at `cdktf apply`, open a hole, or crash the app: IAM size limits, the state
 * bucket, partitions, hosts, docroot templates and input limits. Each entry is what the validator
 * must print: [JSON path, a phrase that line must contain], one entry per line.
 *
 * config-validation.test.ts checks these in-process with the rest of the corpus; cli.test.ts runs
 * each through the app command (exit code, no stack trace, nothing written).
 */
export type Problem = readonly [path: string, says: string];

export const APPLY_GUARD_EXPECTED: Record<string, readonly Problem[]> = {
  // IAM size limits, measured on the rendered policies. 164 grants of the example fit the host
  // role's inline policy; the 165th makes it 10,249 characters.
  'iam-host-policy-over-limit.patch.json': [['grants', '165 grants make the transfer host role "aspera-transfer-host"\'s inline policy 10,249 characters (without whitespace); IAM allows 10,240 for all inline policies of one role together: 164 of these grants fit']],
  // A 1,224-character External ID and a host role with a 511-character path: 2,079 > 2,048.
  'iam-trust-policy-over-limit.patch.json': [['externalId', 'makes the grant roles\' trust policy 2,079 characters (without whitespace); IAM allows 2,048 per trust policy']],
  // Input limits: refused before validation (one line, nothing else is looked at).
  'grants-above-iam-maximum.patch.json': [['grants', 'has 5,001 grants; must contain at most 5,000 grants: each grant is an IAM role in My Account, and 5,000 roles per account is IAM\'s hard maximum']],
  'nested-too-deep.json': [['(config)', 'line 1, column 56: objects and arrays are nested more than 32 levels deep']],
  'json-with-line-comments.json': [['(config)', 'line 2, column 3: JSON does not allow comments']],
  'json-with-block-comment.json': [['(config)', 'line 2, column 40: JSON does not allow comments']],
  // The state holds the External ID: not in a bucket this stack creates, nor one a grant names.
  'state-bucket-created-by-stack.patch.json': [
    ['state.bucket', 'is buckets[0], a bucket this stack creates for transfers'],
    ['state.bucket', 'is a bucket that grants[0] (xfer2) gives transfer access to'],
  ],
  'state-bucket-granted.patch.json': [['state.bucket', 'is a bucket that grants[1] (xfer3) gives transfer access to: a transfer user could read the state']],
  // Same bucket and key, another region: still the same object.
  'other-half-state-is-own-state.patch.json': [['otherHalfState.key', 'is this stack\'s own state (state.bucket "acme-tf-state", state.key "aspera/bucket-owner.tfstate")']],
  'other-half-state-in-granted-bucket.patch.json': [['otherHalfState.bucket', 'is a bucket that grants[0] (xfer2) gives transfer access to']],
  // Partitions.
  'assume-role-arn-wrong-partition.patch.json': [['myAccount.assumeRoleArn', 'must be an ARN in partition "aws" (that of myAccount.region us-east-1)']],
  'host-role-arn-wrong-partition.patch.json': [['hostRole.arn', 'must be an ARN in partition "aws"']],
  'grant-role-arn-wrong-partition.patch.json': [['grants[0].roleArn', 'must be an ARN in partition "aws"']],
  'state-kms-key-wrong-partition.patch.json': [['state.kmsKeyId', 'must be an ARN in partition "aws" (that of state.region us-east-1)']],
  'state-kms-key-wrong-region.patch.json': [['state.kmsKeyId', 'must be a key in the state bucket\'s region us-east-1 (state.region), not eu-west-1']],
  's3-endpoint-china-default-name.patch.json': [['s3Endpoint', 'must be an S3 endpoint of partition "aws-cn" (that of myAccount.region cn-north-1), ending in ".amazonaws.com.cn"']],
  's3-endpoint-govcloud-global.patch.json': [['s3Endpoint', 'only the aws partition has a global S3 endpoint; myAccount.region us-gov-west-1 is in "aws-us-gov"']],
  's3-endpoint-region-of-other-partition.patch.json': [['s3Endpoint', 'names region us-gov-west-1, which is not in partition "aws"']],
  'region-of-no-partition.patch.json': [['otherAccount.region', 'must be an AWS region name']],
  // Hosts: one host written two ways is a duplicate; IPv4 in disguise is refused.
  'hosts-duplicate-ipv6-forms.patch.json': [['asperaHosts[1].host', '"0:0:0:0:0:0:0:1" and "::1" are the same host']],
  'hosts-duplicate-trailing-dot.patch.json': [['asperaHosts[1].host', '"Aspera.Example.com." and "aspera.example.com" are the same host']],
  'hosts-duplicate-ipv4-mapped.patch.json': [['asperaHosts[1].host', '"::ffff:203.0.113.10" and "203.0.113.10" are the same host']],
  'host-ipv4-hex.patch.json': [['asperaHosts[0].host', 'is an unusual spelling of the IPv4 address 127.0.0.1; write it as "127.0.0.1"']],
  'host-ipv4-shortened.patch.json': [['asperaHosts[0].host', 'is an unusual spelling of the IPv4 address 10.0.0.1']],
  'host-name-ending-in-number.patch.json': [['asperaHosts[0].host', 'ends in a number, so resolvers read it as an IPv4 address']],
  'host-key-unknown-type.patch.json': [['asperaHosts[0].hostKey', 'must be the server\'s SSH public host key']],
  'host-key-bad-base64.patch.json': [['asperaHosts[0].hostKey', 'is not valid base64']],
  'host-key-type-mismatch.patch.json': [['asperaHosts[0].hostKey', 'says ssh-rsa but the key itself is "ssh-ed25519"']],
  'host-key-truncated.patch.json': [['asperaHosts[0].hostKey', 'does not decode to an SSH public key']],
  'aspera-conf-root.patch.json': [['asperaHosts[0].asperaConfPath', 'must name a file, not a directory']],
  'aspera-conf-trailing-slash.patch.json': [['asperaHosts[0].asperaConfPath', 'must name a file, not a directory: no trailing "/"']],
  // Fleets run the same install script on their asperaConfPath: the same rules as SSH hosts.
  'fleet-aspera-conf-root.patch.json': [['asperaFleets[0].asperaConfPath', 'must name a file, not a directory: no trailing "/"']],
  'fleet-aspera-conf-trailing-slash.patch.json': [['asperaFleets[0].asperaConfPath', 'must name a file, not a directory: no trailing "/"']],
  'fleet-aspera-conf-dot-end.patch.json': [['asperaFleets[0].asperaConfPath', 'must name a file, not end in "/."']],
  // The output prefix is part of the instances' IAM policy: "ssm/*" would allow s3:PutObject on
  // "ssm/*/*", every key under "ssm/", not one prefix.
  'fleet-output-key-prefix-wildcard.patch.json': [
    ['asperaFleets[0].outputS3.keyPrefix', 'must not contain "*", "?" or "$": the prefix is part of the instances\' IAM policy'],
  ],
  'private-key-relative-path.patch.json': [['asperaHosts[0].privateKeyPath', 'must be an absolute path ("/home/ops/.ssh/aspera.pem") or start with "~/"']],
  'private-key-tilde-user.patch.json': [['asperaHosts[0].privateKeyPath', 'or start with "~/"']],
  // Every grant role requires the External ID: a docroot without it could never work.
  'docroot-template-without-external-id.patch.json': [['docrootTemplate', 'must contain {externalId}']],
};

/**
 * Of those, what the editor schema (aspera.config.schema.json) cannot express, and why; the
 * others editors flag at the same field, with the same message (config-schema.test.ts).
 */
export const APPLY_GUARD_ONLY_THE_CLI_CATCHES: Record<string, string> = {
  'iam-host-policy-over-limit.patch.json': 'the size of a rendered policy',
  'iam-trust-policy-over-limit.patch.json': 'the size of a rendered policy',
  'nested-too-deep.json': 'input limits are checked before the schema',
  'json-with-line-comments.json': 'not JSON',
  'json-with-block-comment.json': 'not JSON',
  'state-bucket-created-by-stack.patch.json': 'a field must differ from fields of array items',
  'state-bucket-granted.patch.json': 'a field must differ from fields of array items',
  'other-half-state-is-own-state.patch.json': 'two objects must differ',
  'other-half-state-in-granted-bucket.patch.json': 'a field must differ from fields of array items',
  'assume-role-arn-wrong-partition.patch.json': 'the ARN must agree with another field',
  'host-role-arn-wrong-partition.patch.json': 'the ARN must agree with another field',
  'grant-role-arn-wrong-partition.patch.json': 'the ARN must agree with another field',
  'state-kms-key-wrong-partition.patch.json': 'the ARN must agree with another field',
  'state-kms-key-wrong-region.patch.json': 'the ARN must agree with another field',
  's3-endpoint-china-default-name.patch.json': 'two fields must agree',
  's3-endpoint-govcloud-global.patch.json': 'two fields must agree',
  's3-endpoint-region-of-other-partition.patch.json': 'two fields must agree',
  'hosts-duplicate-ipv6-forms.patch.json': 'uniqueness of canonical host:port across array items',
  'hosts-duplicate-trailing-dot.patch.json': 'uniqueness of canonical host:port across array items',
  'hosts-duplicate-ipv4-mapped.patch.json': 'uniqueness of canonical host:port across array items',
  'host-ipv4-hex.patch.json': 'host names are checked in code (hostname, IPv4 or IPv6)',
  'host-ipv4-shortened.patch.json': 'host names are checked in code (hostname, IPv4 or IPv6)',
  'host-name-ending-in-number.patch.json': 'host names are checked in code (hostname, IPv4 or IPv6)',
  'host-key-bad-base64.patch.json': 'the key is decoded in code',
  'host-key-type-mismatch.patch.json': 'the key is decoded in code',
  'host-key-truncated.patch.json': 'the key is decoded in code',
  'docroot-template-without-external-id.patch.json': 'placeholders are checked in code',
};
