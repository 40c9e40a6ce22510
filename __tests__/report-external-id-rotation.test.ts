/**
 * The review report during an External ID rotation ("nextExternalId"): which External ID the hosts
 * present, which ones the trust still accepts, and what to do next, in the words of the half the
 * config applies; and an access diff that words a rotation's start, its promotion (the docroots do
 * not change) and its abandonment from those facts. Never a value the config does not hold.
 */
import type { ConfigInput } from '../src/config/schema';
import { diffAccess, type AccessChange } from '../src/report/diff';
import { reviewReport } from '../src/report/markdown';
import { trustChainDiagram } from '../src/report/mermaid';
import { accessModel } from '../src/report/model';
import { code } from '../src/report/text';
import { configOf, grantSectionOf, rowOf, SEVERAL_GRANTS } from './helpers/report-fixtures';
import { halvesOf } from './helpers/synth';

const OLD = 'ext-5551'; // SEVERAL_GRANTS' externalId
const NEW = 'ext-7e2a9c40';
const base = SEVERAL_GRANTS;
const rotating: ConfigInput = { ...base, nextExternalId: NEW };
const promoted: ConfigInput = { ...base, externalId: NEW };

const reportOf = (input: ConfigInput, baseInput?: ConfigInput) =>
  reviewReport({ config: configOf(input), source: 'aspera.config.json', ...(baseInput === undefined ? {} : { base: { config: configOf(baseInput), label: 'origin/main:aspera.config.json' } }) });
const accountsRow = (input: ConfigInput) => {
  const report = reportOf(input);
  return rowOf(report.slice(report.indexOf('## Accounts and principals')), 'External ID');
};
const diff = (from: ConfigInput, to: ConfigInput): AccessChange[] => diffAccess(accessModel(configOf(from)), accessModel(configOf(to)));
const ALL = ['xfer1', 'xfer2', 'xfer3'];

describe('the accounts table during a rotation', () => {
  test('mode "both": the hosts present the new one, the trust accepts both, promote once every host presents it', () => {
    expect(accountsRow(rotating)).toBe(
      `**Rotation in progress (cutover).** The Aspera hosts present ${code(NEW)} (${code('nextExternalId')}): every docroot carries it. ` +
        `The grant roles' trust accepts ${code(OLD)} (${code('externalId')}) and ${code(NEW)} (${code('nextExternalId')}). ` +
        `Next: once every host presents the new one (those this stack configures, and any configured outside it from the ${code('docroots')} output), ` +
        `promote: set ${code('externalId')} to the new value and remove ${code('nextExternalId')}. The hosts do not change then; the trust stops accepting the old one.`,
    );
  });

  test('the bucket owner: apply first, promote when the operator confirms every host presents the new one', () => {
    const row = accountsRow(halvesOf(rotating).bucketOwner);
    expect(row).toContain(`The grant roles' trust accepts ${code(OLD)} (${code('externalId')}) and ${code(NEW)} (${code('nextExternalId')})`);
    expect(row).toContain('Apply this before the operator moves their hosts to the new one.');
    expect(row).toContain(`promote: set ${code('externalId')} to the new value and remove ${code('nextExternalId')}`);
  });

  test('the bucket owner reading the operator\'s state: promotion removes "nextExternalId"; the state\'s value is never shown', () => {
    const row = accountsRow(halvesOf(rotating, { otherHalfState: true }).bucketOwner);
    expect(row).toContain("the External ID read from the operator's state at plan time (output `external_id` of `s3://acme-shared-tf-state/aspera/transfer-host.tfstate`)");
    expect(row).toContain('Once their state publishes the new one, the plan stops until you promote.');
    expect(row).toContain(`promote: remove ${code('nextExternalId')} (their state then holds the new one)`);
  });

  test('the operator with a generated External ID: the bucket owner applies first; promotion deletes the generated one', () => {
    const row = accountsRow(halvesOf(rotating, { otherHalfState: true, generateExternalId: true }).transferHost);
    expect(row).toContain(`The Aspera hosts present ${code(NEW)} (${code('nextExternalId')}): every docroot carries it, and the output ${code('external_id')} (sensitive) publishes it.`);
    expect(row).toContain(`they add it as ${code('nextExternalId')} and apply first (this half's plan checks that in their state)`);
    expect(row).toContain("their trust keeps accepting the External ID generated at first apply (still kept in this half's state)");
    expect(row).toContain(`(this deletes the generated one, ${code('random_id.external_id')})`);
  });

  test('the docroots show the new one, the trust and the diagram both', () => {
    const report = reportOf(rotating);
    const section = grantSectionOf(report, 'xfer2');
    expect(rowOf(section, 'Docroot (goes into aspera.conf)')).toContain(`iam-role.external-id=${NEW}`);
    expect(rowOf(section, 'Docroot (goes into aspera.conf)')).not.toContain(OLD);
    expect(rowOf(section, 'Trusted principal')).toContain(`sts:ExternalId StringEquals "${OLD}" or "${NEW}"`);
    expect(trustChainDiagram(accessModel(configOf(rotating)))).toContain(`External ID ${OLD} or ${NEW} (next)`);
  });
});

describe('the access diff', () => {
  test('a rotation starts: the trust accepts the new one as well, the docroots move to it, nothing is cut off', () => {
    const changes = diff(base, rotating);
    expect(changes.map((c) => [c.kind, ...c.transferUsers])).toEqual([['principal', ...ALL]]);
    expect(changes[0].summary).toBe(
      "Who may assume the role of **xfer1**, **xfer2**, **xfer3** changes: an External ID rotation starts: the grant roles' trust accepts " +
        `${code(NEW)} (${code('nextExternalId')}) as well as ${code(OLD)} (${code('externalId')}); every docroot changes to present ${code(NEW)}; ` +
        `nothing is cut off: hosts that still present ${code(OLD)} keep working until the promotion`,
    );
  });

  test('the promotion: the trust drops the old one, and the docroots do not change', () => {
    const changes = diff(rotating, promoted);
    expect(changes.map((c) => [c.kind, ...c.transferUsers])).toEqual([['principal', ...ALL]]);
    expect(changes[0].summary).toContain(`the External ID rotation is promoted: the grant roles' trust no longer accepts ${code(OLD)} (${code('externalId')}), only ${code(NEW)} (${code('externalId')})`);
    expect(changes[0].summary).toContain(`the docroots do not change (they present ${code(NEW)} already)`);
    expect(changes[0].summary).toContain(`approve once every host presents ${code(NEW)}`);
    expect(changes[0].summary).not.toContain('every docroot changes');
    // No docroot line per grant either: they are the same.
    expect(changes).toHaveLength(1);
  });

  test('abandoned: the trust drops the new one and the docroots go back', () => {
    const [change] = diff(rotating, base);
    expect(change.summary).toContain(`the External ID rotation is abandoned: the grant roles' trust no longer accepts ${code(NEW)} (${code('nextExternalId')}), only ${code(OLD)} (${code('externalId')})`);
    expect(change.summary).toContain(`every docroot changes to present ${code(OLD)}`);
  });

  test('a direct change says it cuts the hosts off and how to rotate instead', () => {
    const [change] = diff(base, promoted);
    expect(change.summary).toContain(`the External ID changes from ${code(OLD)} to ${code(NEW)}: every docroot changes with it`);
    expect(change.summary).toContain(`to rotate without an outage, add the new value as ${code('nextExternalId')} first`);
  });

  test('in the operator\'s half: the bucket owner must accept the new one first; its promotion changes no docroot', () => {
    const operator = (input: ConfigInput) => halvesOf(input).transferHost;
    const [start] = diff(operator(base), operator(rotating));
    expect(start.summary).toContain(`the bucket owner's trust (managed by the other party) must accept ${code(NEW)} (${code('nextExternalId')}) as well before this is applied (they add it as ${code('nextExternalId')} and apply first)`);
    expect(start.summary).toContain(`every docroot changes to present ${code(NEW)}`);
    const [promotion] = diff(operator(rotating), operator(promoted));
    expect(promotion.summary).toContain(`the docroots do not change (they present ${code(NEW)} already)`);
  });

  test('a generated External ID rotated and promoted: the promotion is worded as one, without the generated value', () => {
    const remote = (input: ConfigInput) => halvesOf(input, { otherHalfState: true, generateExternalId: true }).transferHost;
    const [start] = diff(remote(base), remote(rotating));
    expect(start.summary).toContain('an External ID rotation starts');
    const promotedGenerated = { ...remote(rotating), externalId: NEW };
    delete promotedGenerated.nextExternalId;
    const [promotion] = diff(remote(rotating), promotedGenerated);
    expect(promotion.summary).toContain("need no longer accept the External ID generated at first apply, only");
    expect(promotion.summary).toContain(`the docroots do not change (they present ${code(NEW)} already)`);
  });

  test('the bucket owner reading the operator\'s state: removing "nextExternalId" promotes or abandons, as the plan will show', () => {
    const owner = (input: ConfigInput) => halvesOf(input, { otherHalfState: true }).bucketOwner;
    const [start] = diff(owner(base), owner(rotating));
    expect(start.summary).toContain(`accepts ${code(NEW)} (${code('nextExternalId')}) as well as the External ID read from the operator's state at plan time`);
    const [end] = diff(owner(rotating), owner(base));
    expect(end.summary).toContain('this promotes the rotation if the operator\'s state publishes the new value by now');
  });

  test('the report puts the rotation under the warning, as a principal change', () => {
    const report = reportOf(promoted, rotating);
    expect(report).toContain('⚠️ **Principal change:** Who may assume the role of **xfer1**, **xfer2**, **xfer3** changes: the External ID rotation is promoted');
  });
});
