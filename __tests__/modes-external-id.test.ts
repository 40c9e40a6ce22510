/**
 * The External ID as one value (src/modes/external-id.ts): for each of its three sources, how it
 * appears in a policy, a docroot output, the checks between the halves, the host scripts and the
 * report. Expected values are written by hand from the docroot form in src/aspera/docroot.ts
 * (s3://{role ARN}@{endpoint}/{bucket};iam-role.external-id={External ID}) and Terraform's syntax.
 */
import { createHash } from 'node:crypto';
import { EXTERNAL_ID_MARKER } from '../src/aspera/host-scripts';
import { grantRoleTrustPolicy } from '../src/iam/trust-policy';
import { EXTERNAL_ID_STAND_IN, ExternalId, ExternalIds } from '../src/modes/external-id';
import { fixtureConfigInput, halvesOf, validConfig } from './helpers/synth';

const input = fixtureConfigInput('minimal.json');
const given = validConfig(input);
const fromState = validConfig(halvesOf(input, { otherHalfState: true, generateExternalId: true }).bucketOwner);
const generated = validConfig(halvesOf(input, { otherHalfState: true, generateExternalId: true }).transferHost);
const docrootWith = (externalId: string) =>
  `s3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=${externalId}`;
const trustExternalId = (config: typeof given) => {
  const statement = grantRoleTrustPolicy(config).Statement[0] as { Condition: { StringEquals: Record<string, string> } };
  return statement.Condition.StringEquals['sts:ExternalId'];
};

test('given in the config: the value itself everywhere, and nothing to splice in on the host', () => {
  const id = ExternalId.of(given);
  expect(id.source).toEqual({ kind: 'config', value: 'aspera-7f3c9e21' });
  expect([id.known, id.reference, id.inTerraform, id.planTime]).toEqual([true, undefined, 'aspera-7f3c9e21', undefined]);
  expect(trustExternalId(id.inPolicy(given))).toBe('aspera-7f3c9e21');
  expect(id.docroot(given, given.grants[0])).toBe(docrootWith('aspera-7f3c9e21'));
  const sha = createHash('sha256').update('aspera-7f3c9e21').digest('hex');
  expect([id.sha256InTerraform, id.sha256Expression]).toEqual([sha, `"${sha}"`]);
  const install = id.hostScripts(given, given.asperaHosts[0]).install;
  expect(install).toContain('iam-role.external-id=aspera-7f3c9e21');
  expect(install).not.toContain(EXTERNAL_ID_MARKER);
  expect([id.inReport(given), id.reportPhrase]).toEqual([given, 'aspera-7f3c9e21']);
});

test('read from the other half\'s state: a plan-time reference in the policy and the checks, never on a host', () => {
  const id = ExternalId.of(fromState);
  const reference = 'data.terraform_remote_state.transfer_host_half.outputs.external_id';
  expect(id.source.kind).toBe('other-half-state');
  expect([id.known, id.reference, id.inTerraform]).toEqual([false, reference, `\${${reference}}`]);
  expect(trustExternalId(id.inPolicy(fromState))).toBe(`\${${reference}}`);
  expect([id.sha256Expression, id.sha256InTerraform]).toEqual([`sha256(${reference})`, `\${sha256(${reference})}`]);
  expect(() => id.planTime).toThrow(/never reaches an Aspera host/);
  expect(id.inReport(fromState).externalId).toBe(EXTERNAL_ID_STAND_IN);
  expect(id.reportPhrase).toBe("the External ID read from the operator's state at plan time");
});

test('generated here: random_id.external_id.hex, spliced into the host scripts in place of the marker', () => {
  const id = ExternalId.of(generated);
  const reference = 'random_id.external_id.hex';
  expect(id.source.kind).toBe('generated');
  expect([id.known, id.reference, id.inTerraform]).toEqual([false, reference, `\${${reference}}`]);
  expect(id.planTime).toEqual({ reference, hexDigits: 32 });
  expect(id.docroot(generated, generated.grants[0])).toBe(docrootWith(`\${${reference}}`));
  expect(id.sha256Expression).toBe(`sha256(${reference})`);
  const scripts = id.hostScripts(generated, generated.asperaHosts[0]);
  expect(scripts.install).toContain(`iam-role.external-id=${EXTERNAL_ID_MARKER}`);
  expect(scripts.uninstall).not.toContain(EXTERNAL_ID_MARKER);
  expect(id.inReport(generated).externalId).toBe(EXTERNAL_ID_STAND_IN);
  expect(id.reportPhrase).toBe('the External ID generated at first apply');
});

test('a docroot that holds the report\'s stand-in is refused rather than misreported (defence in depth: the schema refuses "~")', () => {
  const sneaky = { ...generated, grants: [{ ...generated.grants[0], prefix: 'in/~external-id~' }] };
  expect(() => ExternalId.of(sneaky).inReport(sneaky)).toThrow(/contains ~external-id~/);
});

describe('a rotation ("nextExternalId"): the trust accepts both, the hosts present the next one', () => {
  const NEXT = 'rotated-5e0c1d2b';
  const trustExternalIds = (config: typeof given) => {
    const statement = grantRoleTrustPolicy(config).Statement[0] as { Condition: { StringEquals: Record<string, string | string[]> } };
    return statement.Condition.StringEquals['sts:ExternalId'];
  };

  test('outside a rotation: one External ID, accepted and presented', () => {
    const ids = ExternalIds.of(given);
    expect([ids.rotating, ids.accepted.length, ids.presented.source, ids.presentedBy, ids.generates]).toEqual([false, 1, { kind: 'config', value: 'aspera-7f3c9e21' }, 'externalId', false]);
  });

  test('given in the config: both values in the trust, the next one in the docroots, the scripts and the hash the operator checks', () => {
    const config = { ...given, nextExternalId: NEXT };
    const ids = ExternalIds.of(config);
    expect([ids.rotating, ids.presentedBy, ids.generates]).toEqual([true, 'nextExternalId', false]);
    expect(ids.accepted.map((id) => id.inTerraform)).toEqual(['aspera-7f3c9e21', NEXT]);
    expect(trustExternalIds(ids.inPolicy(config))).toEqual(['aspera-7f3c9e21', NEXT]);
    expect(ids.presented.docroot(config, config.grants[0])).toBe(docrootWith(NEXT));
    const install = ids.presented.hostScripts(config, config.asperaHosts[0]).install;
    expect(install).toContain(`iam-role.external-id=${NEXT}`);
    expect(install).not.toContain('aspera-7f3c9e21');
    expect(ids.presented.sha256Expression).toBe(`"${createHash('sha256').update(NEXT).digest('hex')}"`);
  });

  test('read from the other half\'s state: the trust accepts the plan-time value and the next one', () => {
    const config = { ...fromState, nextExternalId: NEXT };
    const ids = ExternalIds.of(config);
    const reference = '${data.terraform_remote_state.transfer_host_half.outputs.external_id}';
    expect(trustExternalIds(ids.inPolicy(config))).toEqual([reference, NEXT]);
    expect(ids.accepted.map((id) => id.sha256InTerraform)).toEqual([
      '${sha256(data.terraform_remote_state.transfer_host_half.outputs.external_id)}',
      createHash('sha256').update(NEXT).digest('hex'),
    ]);
  });

  test('generated: the hosts present the next one, known at synth (nothing to splice in); the generated one is still kept', () => {
    const config = { ...generated, nextExternalId: NEXT };
    const ids = ExternalIds.of(config);
    expect([ids.presentedBy, ids.generates, ids.presented.planTime]).toEqual(['nextExternalId', true, undefined]);
    expect(ids.presented.inTerraform).toBe(NEXT);
    expect(ids.presented.hostScripts(config, config.asperaHosts[0]).install).not.toContain(EXTERNAL_ID_MARKER);
  });
});
