/**
 * The mode rules: what each half ("bucket-owner", "transfer-host") needs from the other, and which
 * fields belong to the other half or to mode "both"; with them, the one rule of an External ID
 * rotation that the modes do not already decide ("nextExternalId" differs from "externalId"). The
 * mode names are field grammar (fields.ts).
 */
import { accountOfArn } from '../aws/arns';
import { partitionOf, partitionOfArn } from '../aws/partitions';
import type { CrossFieldCheck } from './cross-field';

// ---- Modes: what each half needs from the other, and what belongs to the other -----------------

const MODE_BOTH = '"both"';
const onlyIn = (mode: string, why: string) => `is only for mode ${mode}: ${why}`;

export const MODE_CHECKS: readonly CrossFieldCheck[] = [
  {
    // Mode "transfer-host" needs no check: without "externalId" it generates one, which reaches
    // the Aspera hosts as a plan-time value (src/constructs/aspera-hosts.ts).
    reads: [['mode'], ['externalId'], ['otherHalfState']],
    check(config, report) {
      const given = config.externalId !== undefined;
      const fromState = config.otherHalfState !== undefined;
      if (config.mode === 'both') {
        if (!given) report(['externalId'], `is required in mode ${MODE_BOTH} (the default): the External ID every grant role requires, e.g. "aspera-7f3c9e21"`);
        if (fromState) report(['otherHalfState'], onlyIn('"bucket-owner" or "transfer-host"', 'in mode "both" this stack applies both halves itself'));
      } else if (config.mode === 'bucket-owner') {
        if (given && fromState) report(['otherHalfState'], 'give either "externalId" (the value the operator sent) or "otherHalfState" (read it from the transfer-host half\'s state), not both');
        if (!given && !fromState) {
          report(['externalId'], 'is required in mode "bucket-owner": the External ID the operator chose (ask them for it), unless "otherHalfState" reads it from the transfer-host half\'s state');
        }
      }
    },
  },
  {
    // A rotation moves to another External ID. Every mode allows "nextExternalId": beside
    // "externalId", beside "otherHalfState" (the operator sends the new value; the one in their
    // state cannot be compared here, the plan checks it: src/exchange/contract.ts), and in place of
    // a generated one (mode "transfer-host": the hosts then present the next one, known at synth).
    reads: [['externalId'], ['nextExternalId']],
    check(config, report) {
      if (config.nextExternalId !== undefined && config.nextExternalId === config.externalId) {
        report(
          ['nextExternalId'],
          'must differ from "externalId": it is the External ID the rotation moves to. To finish a rotation (promote), keep the new value in "externalId" and remove "nextExternalId"',
        );
      }
    },
  },
  {
    reads: [['mode'], ['asperaHosts']],
    check(config, report) {
      if (config.mode === 'bucket-owner' && config.asperaHosts.length > 0) {
        report(['asperaHosts'], 'must be empty in mode "bucket-owner": the Aspera hosts belong to the transfer-host half, which the operator applies');
      }
    },
  },
  {
    reads: [['mode'], ['grants', '*', 'installAs']],
    check(config, report) {
      if (config.mode !== 'bucket-owner') return;
      config.grants.forEach((g, i) => {
        if (g.installAs.includes('access-key')) {
          report(['grants', i, 'installAs'], 'asks for a Node API access key, which the transfer-host half installs on the Aspera hosts: in mode "bucket-owner" remove it (the operator sets it in their half)');
        }
      });
    },
  },
  {
    reads: [['mode'], ['asperaFleets']],
    check(config, report) {
      if (config.mode === 'bucket-owner' && config.asperaFleets.length > 0) {
        report(['asperaFleets'], 'must be empty in mode "bucket-owner": the Aspera instances belong to the transfer-host half, which the operator applies');
      }
    },
  },
  ...(['profile', 'assumeRoleArn'] as const).flatMap((field): CrossFieldCheck[] => [
    {
      reads: [['mode'], ['otherAccount', field]],
      check(config, report) {
        if (config.mode === 'bucket-owner' && config.otherAccount[field] !== undefined) {
          report(['otherAccount', field], 'is not used in mode "bucket-owner": this half configures no provider for Other Account (its owner applies the transfer-host half); remove it');
        }
      },
    },
    {
      reads: [['mode'], ['myAccount', field]],
      check(config, report) {
        if (config.mode === 'transfer-host' && config.myAccount[field] !== undefined) {
          report(['myAccount', field], 'is not used in mode "transfer-host": this half configures no provider for My Account (its owner applies the bucket-owner half); remove it');
        }
      },
    },
  ]),
  {
    reads: [['mode'], ['buckets', '*', 'create']],
    check(config, report) {
      if (config.mode !== 'transfer-host') return;
      config.buckets.forEach((b, i) => {
        if (b.create) report(['buckets', i, 'create'], 'must be false in mode "transfer-host": the bucket owner creates its buckets in the bucket-owner half; here they are only named for the grants');
      });
    },
  },
  {
    reads: [['mode'], ['hostRole'], ['myAccount', 'region'], ['otherAccount', 'accountId']],
    check(config, report) {
      if (!('arn' in config.hostRole)) return;
      const arn = config.hostRole.arn;
      if (config.mode !== 'bucket-owner') {
        report(['hostRole', 'arn'], onlyIn('"bucket-owner"', 'this half creates the host role or looks it up by name; use "name" or "existingRoleName"'));
      } else if (accountOfArn(arn) !== config.otherAccount.accountId) {
        report(['hostRole', 'arn'], `must be a role in account ${config.otherAccount.accountId} (otherAccount.accountId): the grant roles trust only the transfer host's account`);
      } else if (partitionOfArn(arn) !== partitionOf(config.myAccount.region)) {
        report(['hostRole', 'arn'], `must be an ARN in partition "${partitionOf(config.myAccount.region)}" (that of myAccount.region)`);
      }
    },
  },
  {
    reads: [['mode'], ['myAccount', 'accountId'], ['myAccount', 'region'], ['grants', '*', 'roleArn'], ['grants', '*', 'roleName']],
    check(config, report) {
      config.grants.forEach((g, i) => {
        if (g.roleArn === undefined) return;
        if (config.mode !== 'transfer-host') {
          report(['grants', i, 'roleArn'], onlyIn('"transfer-host"', 'here the grant role is created by this stack; name it with "roleName"'));
        } else if (g.roleName !== undefined) {
          report(['grants', i, 'roleArn'], 'give either "roleName" or "roleArn", not both');
        } else if (accountOfArn(g.roleArn) !== config.myAccount.accountId) {
          report(['grants', i, 'roleArn'], `must be a role in account ${config.myAccount.accountId} (myAccount.accountId): grant roles are the bucket owner's`);
        } else if (partitionOfArn(g.roleArn) !== partitionOf(config.myAccount.region)) {
          report(['grants', i, 'roleArn'], `must be an ARN in partition "${partitionOf(config.myAccount.region)}" (that of myAccount.region)`);
        }
      });
    },
  },
];

