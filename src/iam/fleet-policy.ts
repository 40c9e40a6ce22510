/**
 * What the instance role of an Aspera fleet needs for State Manager, and nothing in My Account.
 *
 *  - AmazonSSMManagedInstanceCore, the AWS managed policy that AWS Systems Manager's setup names
 *    for instance roles: SSM Agent registers the instance, fetches its associations and documents
 *    and reports their status. Attached only to a host role this stack creates.
 *  - s3:GetObject under each fleet's script path in its scriptS3 bucket (src/aspera/fleets.ts):
 *    the SSM document downloads the host script from there with the instance's credentials
 *    (aws:downloadContent). Only that path: the bucket may hold other stacks' scripts, whose
 *    External IDs are not this stack's instances' to read. No s3:ListBucket: the agent downloads
 *    one object without it (a missing one then reads as 403, not 404).
 *  - With an S3 output location: s3:PutObject under the fleet's prefix and
 *    s3:GetEncryptionConfiguration on the bucket, which SSM Agent uses to upload a run's output
 *    with the instance's own credentials. The bucket is in Other Account (the schema refuses one of
 *    the grant buckets); a bucket of another account would still need its own bucket policy.
 */
import { fleetScriptPrefix } from '../aspera/fleets';
import type { Config } from '../config/schema';
import { partitionOf } from './arns';
import { type PolicyDocument, policyDocument } from './policy-document';

export const SSM_CORE_POLICY_NAME = 'AmazonSSMManagedInstanceCore';

export const ssmCorePolicyArn = (config: Config): string => `arn:${partitionOf(config.otherAccount.region)}:iam::aws:policy/${SSM_CORE_POLICY_NAME}`;

/** The inline policy for the fleets' S3 output locations, or undefined when no fleet has one. */
export function commandOutputPolicy(config: Config): PolicyDocument | undefined {
  const partition = partitionOf(config.otherAccount.region);
  const locations = config.asperaFleets.flatMap((f) => (f.outputS3 === undefined ? [] : [f.outputS3]));
  if (locations.length === 0) return undefined;
  const objects = [...new Set(locations.map((o) => `arn:${partition}:s3:::${o.bucket}/${o.keyPrefix === undefined ? '' : `${o.keyPrefix}/`}*`))];
  const buckets = [...new Set(locations.map((o) => `arn:${partition}:s3:::${o.bucket}`))];
  return policyDocument(
    { Sid: 'WriteSsmCommandOutput', Effect: 'Allow', Action: ['s3:PutObject'], Resource: objects },
    { Sid: 'ReadOutputBucketEncryption', Effect: 'Allow', Action: ['s3:GetEncryptionConfiguration'], Resource: buckets },
  );
}

/** The inline policy that lets the instances read their fleets' scripts, or undefined without fleets. */
export function fleetScriptsPolicy(config: Config): PolicyDocument | undefined {
  if (config.asperaFleets.length === 0) return undefined;
  const partition = partitionOf(config.otherAccount.region);
  const objects = [...new Set(config.asperaFleets.map((f) => `arn:${partition}:s3:::${f.scriptS3.bucket}/${fleetScriptPrefix(config.stackName, config.myAccount.accountId, f)}*`))];
  return policyDocument({ Sid: 'ReadFleetScripts', Effect: 'Allow', Action: ['s3:GetObject'], Resource: objects });
}
