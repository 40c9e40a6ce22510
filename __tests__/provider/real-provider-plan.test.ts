/**
 * Every golden case (helpers/golden.ts: aspera.config.json, every config of fixtures/configs/valid/
 * and two-organizations/, the halves of two fixtures, the host scripts' base config, 12 grants)
 * planned by real Terraform with the real hashicorp/aws provider, offline: `terraform init` and
 * `plan -refresh=false`, with no error and no warning, the plan's validation walk included (the same
 * walk `terraform validate` runs, reported in `plan -json`; REAL_PROVIDER_VALIDATE=1 runs the
 * separate command too, at a third more time: see PlanOptions.validate). The stack is converted for
 * this machine by helpers/real-provider.ts (each conversion documented there): the provider from a
 * filesystem mirror, its every endpoint on a stand-in on 127.0.0.1, null_resource, random_id and
 * random_bytes as the built-in terraform_data, the other half's state as a local state file.
 *
 * Then, from `terraform show -json` of the saved plan:
 *  - the plan creates exactly the resources cdk.tf.json declares (the same addresses, so the same
 *    count per type), and reads its data sources while planning (none is left to apply);
 *  - every IAM trust policy, inline role policy, S3 bucket policy and KMS key policy the provider
 *    plans parses to the same JSON as the one rendered in cdk.tf.json (with the other half's
 *    outputs in place where the stack reads them), or is unknown exactly when the rendered one
 *    refers to something only known after apply;
 *  - every S3 bucket sub-resource (public access block, encryption, ownership controls, policy)
 *    names its bucket at plan time;
 *  - the provider called AWS only to read an existing host role (GetRole, answered by the stand-in).
 *
 * One `terraform init` is shared: the first fills a plugin cache and writes the lock file every
 * other directory uses read-only. The cases run REAL_PROVIDER_JOBS at a time (default 2: this
 * machine and CI have 2 cores, and each plan runs one provider process per provider alias).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenCases } from '../helpers/golden';
import {
  CONVERSIONS,
  describeDiagnostic,
  otherHalfOf,
  planRealProvider,
  prepareRealProvider,
  type PlannedStack,
  type RealProviderEnv,
} from '../helpers/real-provider';
import { resolvePlanTime, synthConfigToDir, type SynthOutput, type TerraformJson } from '../helpers/synth';

const CASES = goldenCases();
const JOBS = Math.max(1, Number(process.env.REAL_PROVIDER_JOBS ?? 2));
/** REAL_PROVIDER_VALIDATE=1 also runs `terraform validate -json` in every case (see PlanOptions.validate: the plan validates anyway). */
const VALIDATE = process.env.REAL_PROVIDER_VALIDATE === '1';
/** A case's first test waits for its plan, which may queue behind the others. */
const WAIT_MS = 15 * 60 * 1000;

/** The policy documents the plan must carry as rendered: resource type -> attributes. */
const POLICY_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_iam_role: ['assume_role_policy'],
  aws_iam_role_policy: ['policy'],
  aws_iam_policy: ['policy'],
  aws_s3_bucket_policy: ['policy'],
  aws_kms_key: ['policy'],
};

/** The sub-resources of a bucket the stack creates; each must know its bucket when planning. */
const BUCKET_SUB_RESOURCES = ['aws_s3_bucket_public_access_block', 'aws_s3_bucket_server_side_encryption_configuration', 'aws_s3_bucket_ownership_controls', 'aws_s3_bucket_policy'];

interface CaseRun {
  readonly synth: SynthOutput;
  readonly planned: PlannedStack;
}

let root: string;
let env: RealProviderEnv;
let started = 0;
let prepared: Promise<RealProviderEnv>;
const runs = new Map<string, Promise<CaseRun>>();
const synths: SynthOutput[] = [];
/** Per case: policy documents compared with the plan, and those the plan rightly leaves unknown. */
const policyCounts = new Map<string, { compared: number; unknown: number }>();

/** Runs `jobs` at a time, in order. */
function pool<T>(tasks: Array<() => Promise<T>>, jobs: number): Array<Promise<T>> {
  const gates: Array<(value?: unknown) => void> = [];
  const results: Array<Promise<T>> = [];
  let running = 0;
  let next = 0;
  const release = () => {
    running--;
    if (next < gates.length) {
      running++;
      gates[next++]();
    }
  };
  for (const task of tasks) {
    const gate = new Promise((resolve) => gates.push(resolve));
    results.push(gate.then(task).finally(release));
  }
  while (running < jobs && next < gates.length) {
    running++;
    gates[next++]();
  }
  return results;
}

beforeAll(() => {
  started = Date.now();
  root = mkdtempSync(join(tmpdir(), 'aspera-real-provider-'));
  prepared = prepareRealProvider(root);
  // A failure here (no Terraform, no mirror) fails every test below with its message.
  prepared.catch(() => undefined);
  const synthOf = new Map<string, SynthOutput>();
  const synthFor = (name: string) => {
    let s = synthOf.get(name);
    if (s === undefined) {
      s = synthConfigToDir(CASES.find((c) => c.name === name)!.config);
      synths.push(s);
      synthOf.set(name, s);
    }
    return s;
  };
  const tasks = CASES.map(({ name, config }) => async (): Promise<CaseRun> => {
    env = await prepared;
    const synth = synthFor(name);
    const other = config.otherHalfState !== undefined ? synthFor(otherHalfOf(config, CASES).name) : undefined;
    return { synth, planned: await planRealProvider(env, join(root, name), synth, other, { validate: VALIDATE }) };
  });
  pool(tasks, JOBS).forEach((run, i) => {
    run.catch(() => undefined);
    runs.set(CASES[i].name, run);
  });
});

afterAll(async () => {
  await Promise.allSettled([...runs.values()]);
  const rows: string[] = [];
  for (const [name, run] of runs) {
    const r = await run.catch(() => undefined);
    const policies = policyCounts.get(name);
    if (r !== undefined) {
      rows.push(
        `  ${name.padEnd(68)} init ${s(r.planned.ms.init)}${VALIDATE ? ` validate ${s(r.planned.ms.validate)}` : ''} plan ${s(r.planned.ms.plan)} show ${s(r.planned.ms.show)}` +
          (policies !== undefined ? `; policies: ${policies.compared} as rendered, ${policies.unknown} unknown until apply` : ''),
      );
    }
  }
  console.log(
    `real provider: ${CASES.length} cases, ${JOBS} at a time${VALIDATE ? ', with terraform validate' : ''}, ${s(Date.now() - started)} in all (hashicorp/aws ${env?.mirror.version ?? '?'}, ${env?.mirror.dir ?? 'no mirror'})\n${rows.join('\n')}\n` +
      `conversions (helpers/real-provider.ts):\n${Object.entries(CONVERSIONS)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`,
  );
  for (const synth of synths) rmSync(synth.outdir, { recursive: true, force: true });
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  // Every case's plan is waited for here: with -t, the cases not selected were never awaited by a test.
}, WAIT_MS);

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A Terraform template string with no interpolation or directive: its literal text; undefined otherwise. */
function literalOf(template: string): string | undefined {
  if (/(^|[^$])\$\{/.test(template) || /(^|[^%])%\{/.test(template)) return undefined;
  return template.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}

interface Change {
  address: string;
  action_reason?: string;
  mode: string;
  type: string;
  change: { actions: string[]; after: Record<string, any>; after_unknown?: Record<string, any> };
}

const changesOf = (show: any): Change[] => (show?.resource_changes ?? []) as Change[];

/** The plan's resource change for an address of cdk.tf.json. */
function changeOf(run: CaseRun, address: string): Change {
  const converted = Object.entries(run.planned.stack.originalAddress).find(([, original]) => original === address)?.[0] ?? address;
  const change = changesOf(run.planned.show).find((c) => c.address === converted);
  if (change === undefined) throw new Error(`${address} is not in the plan`);
  return change;
}

const managedAddresses = (tf: TerraformJson): string[] => Object.entries(tf.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`));
const countsPerType = (addresses: string[]): Record<string, number> =>
  addresses.reduce<Record<string, number>>((acc, a) => ({ ...acc, [a.split('.')[0]]: (acc[a.split('.')[0]] ?? 0) + 1 }), {});

/** The run of a case whose plan succeeded (else the test fails with what Terraform said). */
async function plannedRun(name: string): Promise<CaseRun> {
  const run = await runs.get(name)!;
  if (run.planned.show === undefined) {
    const all = [...run.planned.diagnostics.init, ...run.planned.diagnostics.validate, ...run.planned.diagnostics.plan];
    throw new Error(`no plan for ${name}:\n${all.map(describeDiagnostic).join('\n')}`);
  }
  return run;
}

describe.each(CASES)('$name', ({ name }) => {
  test(
    `terraform init and plan -refresh=false with the real AWS provider (the plan's validation walk included${VALIDATE ? ', and terraform validate -json' : ''}): no error, no warning`,
    async () => {
      const { planned } = await runs.get(name)!;
      const described = {
        init: planned.diagnostics.init.map(describeDiagnostic),
        validate: planned.diagnostics.validate.map(describeDiagnostic),
        plan: planned.diagnostics.plan.map(describeDiagnostic),
      };
      expect(described).toEqual({ init: [], validate: [], plan: [] });
      if (VALIDATE) expect(planned.validate).toEqual({ valid: true, error_count: 0, warning_count: 0 });
      expect(planned.show).toBeDefined();
    },
    WAIT_MS,
  );

  test('the plan creates exactly the resources of cdk.tf.json (so as many per type), and reads every data source while planning', async () => {
    const run = await plannedRun(name);
    const { tf } = run.synth;
    const changes = changesOf(run.planned.show);
    const planned = changes.filter((c) => c.mode === 'managed').map((c) => run.planned.stack.originalAddress[c.address] ?? c.address);
    expect(planned.sort()).toEqual(managedAddresses(tf).sort());
    expect(countsPerType(planned)).toEqual(countsPerType(managedAddresses(tf)));
    // Everything is created, but for a generated External ID applied first (a half that reads the other's state: see planRealProvider), which stays.
    const seeded = run.planned.seeded ?? [];
    expect(changes.filter((c) => c.mode === 'managed' && c.change.actions.join() !== (seeded.includes(c.address) ? 'no-op' : 'create')).map((c) => `${c.address}: ${c.change.actions.join()}`)).toEqual([]);
    // A data source read while planning is in the prior state; one left to apply would be a change ("read").
    const read = ((run.planned.show.prior_state?.values?.root_module?.resources ?? []) as Array<{ address: string; mode: string }>).filter((r) => r.mode === 'data').map((r) => r.address);
    const declared = Object.entries(tf.data ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((n) => `data.${type}.${n}`));
    // (A data source that depends on a resource with changes pending is read during apply: then its
    // postconditions, e.g. the checks on the other half's outputs, cannot stop the plan.)
    const deferred = changes.filter((c) => c.mode === 'data').map((c) => `${c.address} (${c.action_reason ?? 'no reason given'})`);
    expect({ read: read.sort(), deferred }).toEqual({ read: declared.sort(), deferred: [] });
  });

  test('every IAM trust policy, inline role policy, S3 bucket policy and KMS key policy planned is the JSON rendered in cdk.tf.json', async () => {
    const run = await plannedRun(name);
    const { tf } = run.synth;
    // Every policy document in the stack is one the table checks.
    const documents = Object.entries(tf.resource ?? {}).flatMap(([type, byName]) =>
      Object.values(byName).flatMap((body) =>
        Object.entries(body)
          .filter(([, v]) => typeof v === 'string' && /^\s*\{[\s\S]*"Statement"/.test(v))
          .map(([attribute]) => `${type}.${attribute}`),
      ),
    );
    expect([...new Set(documents)].filter((d) => !POLICY_ATTRIBUTES[d.split('.')[0]]?.includes(d.split('.')[1]))).toEqual([]);

    const mismatches: string[] = [];
    let compared = 0;
    let unknownAtPlan = 0;
    for (const [type, attributes] of Object.entries(POLICY_ATTRIBUTES)) {
      for (const [resourceName, body] of Object.entries(tf.resource?.[type] ?? {})) {
        for (const attribute of attributes) {
          const rendered = body[attribute];
          if (rendered === undefined) continue;
          const address = `${type}.${resourceName}`;
          const { after, after_unknown: unknown = {} } = changeOf(run, address).change;
          const literal = literalOf(resolvePlanTime(rendered as string, run.planned.remoteValues));
          if (literal === undefined) {
            // Refers to something only known after apply (e.g. a key created with the stack): so must the plan.
            if (unknown[attribute] !== true) mismatches.push(`${address}.${attribute}: rendered with a value known only after apply, planned as known: ${after[attribute]}`);
            unknownAtPlan++;
            continue;
          }
          compared++;
          if (unknown[attribute] === true) mismatches.push(`${address}.${attribute}: known in cdk.tf.json, unknown in the plan`);
          else if (JSON.stringify(JSON.parse(after[attribute])) !== JSON.stringify(JSON.parse(literal))) {
            try {
              expect(JSON.parse(after[attribute])).toEqual(JSON.parse(literal));
            } catch (e) {
              mismatches.push(`${address}.${attribute}: ${(e as Error).message}`);
            }
          }
        }
      }
    }
    policyCounts.set(name, { compared, unknown: unknownAtPlan });
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(0);
  });

  test('every S3 bucket sub-resource (public access block, encryption, ownership, policy) names its bucket at plan time', async () => {
    const run = await plannedRun(name);
    const { tf } = run.synth;
    const found: string[] = [];
    for (const [type, byName] of Object.entries(tf.resource ?? {})) {
      if (!type.startsWith('aws_s3_bucket_') || type === 'aws_s3_bucket_object') continue;
      if (!BUCKET_SUB_RESOURCES.includes(type)) throw new Error(`${type}: add it to BUCKET_SUB_RESOURCES (or say why its bucket may be unknown)`);
      for (const [resourceName, body] of Object.entries(byName)) {
        const ref = /^\$\{aws_s3_bucket\.([\w-]+)\.(bucket|id)\}$/.exec(body.bucket);
        const bucket = ref !== null ? tf.resource!.aws_s3_bucket[ref[1]].bucket : body.bucket;
        const { after, after_unknown: unknown = {} } = changeOf(run, `${type}.${resourceName}`).change;
        found.push(`${type}.${resourceName}: ${unknown.bucket === true ? '(known after apply)' : after.bucket}`);
        expect(`${type}.${resourceName}: ${bucket}`).toBe(found[found.length - 1]);
      }
    }
    const buckets = Object.keys(tf.resource?.aws_s3_bucket ?? {}).length;
    expect(found).toHaveLength(buckets * BUCKET_SUB_RESOURCES.length);
  });

  test('the provider called AWS only to read the existing host role (IAM GetRole, answered by the stand-in on 127.0.0.1)', async () => {
    const run = await runs.get(name)!;
    const expected = Object.values(run.synth.tf.data?.aws_iam_role ?? {}).map((body) => `GetRole ${body.name}`);
    expect(run.planned.requests.map((r) => `${r.action}${r.params.RoleName !== undefined ? ` ${r.params.RoleName}` : ''}`)).toEqual(expected);
  });
});
