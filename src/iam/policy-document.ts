/**
 * IAM policy documents as plain typed data (the shape AWS stores), plus a stable renderer.
 * Everything that decides a policy returns a PolicyDocument; constructs only render it.
 */
export type ConditionOperator = 'StringEquals' | 'StringLike' | 'ArnEquals' | 'ArnLike' | 'Bool' | 'NumericLessThan';
export type Condition = Partial<Record<ConditionOperator, Record<string, string | string[]>>>;

export type Principal = '*' | { AWS: string | string[] } | { Service: string | string[] };

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Principal;
  Action: string[];
  Resource?: string[];
  Condition?: Condition;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export const policyDocument = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

/** JSON exactly as it goes into cdk.tf.json and, through Terraform, into IAM. */
export const renderPolicy = (document: PolicyDocument): string => JSON.stringify(document, null, 2);
