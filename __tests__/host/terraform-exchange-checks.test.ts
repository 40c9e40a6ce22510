/**
 * The External ID checks between the halves during a rotation, evaluated by real Terraform: each
 * check's condition, as synthesized, with `self.outputs` replaced by what the other half publishes
 * (its synthesized output values, or what a version before rotations published), goes into an
 * output of an otherwise empty configuration, and `terraform apply` evaluates it.
 *  - The operator's check passes when the SHA-256 of the External ID its hosts present is among
 *    those the bucket owner's trust accepts ("external_id_sha256s"), and falls back to the one
 *    "external_id_sha256" of a bucket owner that publishes no list; nothing published fails the
 *    check (false), not Terraform (an error).
 *  - The bucket owner's check during its rotation (External ID read from the operator's state)
 *    passes until the operator publishes "nextExternalId", and leaves a missing value to the check
 *    that reports it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import { requireHostTools } from '../helpers/host-suite';
import { fixtureConfigInput, halvesOf, synthConfig, type TerraformJson } from '../helpers/synth';
import { terraformDir } from '../helpers/terraform-host';

const OLD_ID = 'aspera-7f3c9e21'; // minimal.json's externalId
const NEW_ID = 'rotated-5e0c1d2b';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

type Published = Record<string, unknown>;
type Check = { condition: string; error_message: string };

const dirs: string[] = [];
beforeAll(() => requireHostTools());
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** `condition` ("${...}") evaluated by Terraform once for each set of published outputs, by name. */
async function evaluate(condition: string, scenarios: Record<string, Published>): Promise<Record<string, unknown>> {
  const m = /^\$\{([\s\S]*)\}$/.exec(condition);
  if (m === null) throw new Error(`not one expression: ${condition}`);
  const names = Object.keys(scenarios).map((_, i) => `s${i}`);
  const output = Object.fromEntries(names.map((name) => [name, { value: `\${${m[1].split('self.outputs.').join(`local.${name}.`)}}` }]));
  const locals = Object.fromEntries(Object.values(scenarios).map((published, i) => [names[i], published]));
  const dir = mkdtempSync(join(tmpdir(), 'aspera-exchange-checks-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ locals, output }));
  const tf = terraformDir(dir, join(dir, 'events.log'));
  await tf.ok(['init', '-input=false', '-no-color']);
  await tf.ok(['apply', '-auto-approve', '-input=false', '-no-color']);
  const values = JSON.parse(await tf.ok(['output', '-json', '-no-color'])) as Record<string, { value: unknown }>;
  return Object.fromEntries(Object.keys(scenarios).map((scenario, i) => [scenario, values[names[i]].value]));
}

/** The bucket owner's two External ID outputs as its stack publishes them (literal values: External IDs by message). */
function externalIdOutputs(bucketOwner: ConfigInput): Published {
  const tf = synthConfig(bucketOwner);
  return { external_id_sha256: tf.output?.external_id_sha256?.value, external_id_sha256s: tf.output?.external_id_sha256s?.value };
}

const checkOn = (tf: TerraformJson, id: string, has: string): Check => {
  const found = (tf.data!.terraform_remote_state[id].lifecycle.postcondition as Check[]).filter((c) => c.condition.includes(has));
  if (found.length !== 1) throw new Error(`expected one check with ${has} on ${id}, found ${found.length}`);
  return found[0];
};

test('the operator\'s check: the ID its hosts present against every ID the bucket owner\'s trust accepts, or an older bucket owner\'s one', async () => {
  const input = fixtureConfigInput('minimal.json');
  const rotating = halvesOf({ ...input, nextExternalId: NEW_ID }, { otherHalfState: true });
  const notRotating = halvesOf(input, { otherHalfState: true });
  // The bucket owner's side with values by message, so that its outputs are literals.
  const bucketOwner = (overrides: Partial<ConfigInput>) => externalIdOutputs(halvesOf({ ...input, ...overrides }).bucketOwner);
  const published: Record<string, Published> = {
    'bucket owner rotating': bucketOwner({ nextExternalId: NEW_ID }),
    'bucket owner not rotating yet': bucketOwner({}),
    'bucket owner promoted': bucketOwner({ externalId: NEW_ID }),
    'older bucket owner requiring the new one': { external_id_sha256: sha256(NEW_ID), external_id_sha256s: null },
    'older bucket owner requiring the old one': { external_id_sha256: sha256(OLD_ID), external_id_sha256s: null },
    'nothing published': { external_id_sha256: null, external_id_sha256s: null },
  };
  expect(published['bucket owner rotating']).toEqual({ external_id_sha256: sha256(OLD_ID), external_id_sha256s: [sha256(OLD_ID), sha256(NEW_ID)] });

  const hostsOnTheNewOne = checkOn(synthConfig(rotating.transferHost), 'bucket_owner_half', 'external_id_sha256');
  expect(await evaluate(hostsOnTheNewOne.condition, published)).toEqual({
    'bucket owner rotating': true,
    'bucket owner not rotating yet': false,
    'bucket owner promoted': true,
    'older bucket owner requiring the new one': true,
    'older bucket owner requiring the old one': false,
    'nothing published': false,
  });
  expect(hostsOnTheNewOne.error_message).toContain('they add it as "nextExternalId" and apply first');

  const hostsOnTheOldOne = checkOn(synthConfig(notRotating.transferHost), 'bucket_owner_half', 'external_id_sha256');
  expect(await evaluate(hostsOnTheOldOne.condition, published)).toEqual({
    'bucket owner rotating': true,
    'bucket owner not rotating yet': true,
    'bucket owner promoted': false,
    'older bucket owner requiring the new one': false,
    'older bucket owner requiring the old one': true,
    'nothing published': false,
  });
});

test('the bucket owner\'s check during its rotation: passes until the operator publishes "nextExternalId"', async () => {
  const { bucketOwner } = halvesOf({ ...fixtureConfigInput('minimal.json'), nextExternalId: NEW_ID }, { otherHalfState: true });
  const guard = checkOn(synthConfig(bucketOwner), 'transfer_host_half', sha256(NEW_ID));
  expect(
    await evaluate(guard.condition, {
      'operator still on the old one': { external_id: OLD_ID },
      'operator on the new one': { external_id: NEW_ID },
      'nothing published': { external_id: null },
    }),
  ).toEqual({ 'operator still on the old one': true, 'operator on the new one': false, 'nothing published': true });
});
