/**
 * AWS partitions: which partition a region belongs to, and the DNS suffix of its endpoints. This
 * file decides what "the same partition" means for the config (src/config/) and what an ARN
 * starts with for the policies (src/iam/). A leaf: it imports nothing of the project.
 *
 * The data is that of the AWS SDKs' endpoint rules (aws-sdk-js-v3,
 * packages/util-endpoints/src/lib/aws/partitions.json): one region pattern and one DNS suffix per
 * partition. The region patterns are written a little narrower than the SDK's ("\w+" there) so
 * that a region name stays letters, digits and "-".
 */

export const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'] as const;

export type Partition = (typeof PARTITIONS)[number];

interface PartitionFacts {
  /** Region names of the partition, e.g. "cn-north-1" for aws-cn. */
  readonly regions: RegExp;
  /** The region pattern without anchors, for the editor schema's region pattern. */
  readonly regionSource: string;
  /** DNS suffix of the partition's service endpoints: S3 is s3.<region>.<suffix>. */
  readonly dnsSuffix: string;
  /** An example region, for messages. */
  readonly example: string;
}

const facts = (regionSource: string, dnsSuffix: string, example: string): PartitionFacts => ({
  regions: new RegExp(`^${regionSource}$`),
  regionSource,
  dnsSuffix,
  example,
});

/** The patterns do not overlap: "us-gov-west-1" has two words before its number, aws regions one. */
export const PARTITION_FACTS: Readonly<Record<Partition, PartitionFacts>> = {
  aws: facts('(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\\d{1,2}', 'amazonaws.com', 'us-east-1'),
  'aws-cn': facts('cn-[a-z]+-\\d{1,2}', 'amazonaws.com.cn', 'cn-north-1'),
  'aws-us-gov': facts('us-gov-[a-z]+-\\d{1,2}', 'amazonaws.com', 'us-gov-west-1'),
  'aws-iso': facts('us-iso-[a-z]+-\\d{1,2}', 'c2s.ic.gov', 'us-iso-east-1'),
  'aws-iso-b': facts('us-isob-[a-z]+-\\d{1,2}', 'sc2s.sgov.gov', 'us-isob-east-1'),
  'aws-iso-e': facts('eu-isoe-[a-z]+-\\d{1,2}', 'cloud.adc-e.uk', 'eu-isoe-west-1'),
  'aws-iso-f': facts('us-isof-[a-z]+-\\d{1,2}', 'csp.hci.ic.gov', 'us-isof-south-1'),
  'aws-eusc': facts('eusc-de-[a-z]+-\\d{1,2}', 'amazonaws.eu', 'eusc-de-east-1'),
};

/** Every region name of every partition. */
export const REGION_PATTERN = new RegExp(`^(${PARTITIONS.map((p) => PARTITION_FACTS[p].regionSource).join('|')})$`);

/** The partition of a region name, or undefined for a name no partition has. */
export function partitionOfRegion(region: string): Partition | undefined {
  return PARTITIONS.find((p) => PARTITION_FACTS[p].regions.test(region));
}

/** The partition of a region that has passed REGION_PATTERN. */
export function partitionOf(region: string): Partition {
  const partition = partitionOfRegion(region);
  if (partition === undefined) throw new Error(`${JSON.stringify(region)} is not a region of any AWS partition`);
  return partition;
}

export const isPartition = (value: string): value is Partition => (PARTITIONS as readonly string[]).includes(value);

/** The partition an ARN names ("arn:aws-cn:iam::..." -> "aws-cn"), or undefined when it is not an ARN. */
export function partitionOfArn(arn: string): string | undefined {
  const match = /^arn:([a-z-]+):/.exec(arn);
  return match === null ? undefined : match[1];
}

/**
 * The S3 endpoint a docroot uses when the config names none: the global name in the aws
 * partition (as Aspera's own examples write it), the region's endpoint elsewhere: the global
 * s3.amazonaws.com serves only the aws partition.
 */
export function defaultS3Endpoint(region: string): string {
  const partition = partitionOf(region);
  return partition === 'aws' ? 's3.amazonaws.com' : `s3.${region}.${PARTITION_FACTS[partition].dnsSuffix}`;
}

/**
 * Why an S3 endpoint host cannot serve buckets of `region`'s partition, or undefined when it can:
 * it must end in the partition's DNS suffix, and a region named in it must be of that partition
 * (GovCloud shares "amazonaws.com" with the aws partition; s3.amazonaws.com itself is aws only).
 */
export function s3EndpointProblem(endpoint: string, region: string): string | undefined {
  const partition = partitionOf(region);
  const host = endpoint.toLowerCase().replace(/\.$/, '');
  const { dnsSuffix } = PARTITION_FACTS[partition];
  const suggestion = `e.g. "s3.${region}.${dnsSuffix}"`;
  if (!host.endsWith(`.${dnsSuffix}`)) {
    return `must be an S3 endpoint of partition "${partition}" (that of myAccount.region ${region}), ending in ".${dnsSuffix}", ${suggestion}`;
  }
  const named = host
    .slice(0, -dnsSuffix.length - 1)
    .split('.')
    .flatMap((label) => label.split(/^s3-/))
    .filter((label) => partitionOfRegion(label) !== undefined);
  const elsewhere = named.find((r) => partitionOf(r) !== partition);
  if (elsewhere !== undefined) return `names region ${elsewhere}, which is not in partition "${partition}" (that of myAccount.region ${region}); ${suggestion}`;
  if (named.length === 0 && partition !== 'aws') {
    return `names no region, and only the aws partition has a global S3 endpoint; myAccount.region ${region} is in "${partition}": ${suggestion}`;
  }
  return undefined;
}
