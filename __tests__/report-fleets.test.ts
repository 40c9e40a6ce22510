/**
 * The review report and its diagram with an Aspera fleet (SSM State Manager) and a retired SSH
 * host: the fleet by its targets and transport, the SSM policy the instance role gets or must
 * have, what destroy leaves on the instances, and the retired host's pending uninstall.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { ConfigInput } from '../src/config/schema';
import { reviewReport } from '../src/report/markdown';
import { trustChainDiagram } from '../src/report/mermaid';
import { accessModel } from '../src/report/model';
import { code } from '../src/report/text';
import { configOf, destroySectionOf, grantSectionOf, ONE_GRANT, rowOf } from './helpers/report-fixtures';

const FLEET = { name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg', tags: [{ key: 'Role', values: ['aspera'] }] }, scriptS3: { bucket: 'media-ops-aspera-scripts' }, outputS3: { bucket: 'ops-ssm-output', keyPrefix: 'aspera' } };
const withFleet = (edit: (d: ConfigInput) => void = () => undefined) =>
  configOf(ONE_GRANT, (d) => {
    (d as Record<string, unknown>).asperaFleets = [FLEET];
    edit(d);
  });

interface ParsedDiagram {
  ok: boolean;
  error?: string;
  vertices: { id: string; text: string }[];
  edges: { start: string; end: string; text: string }[];
}
const parseMermaid = (sources: string[]): ParsedDiagram[] =>
  JSON.parse(execFileSync(process.execPath, [join(__dirname, 'report-mermaid-check.mjs')], { input: JSON.stringify(sources), encoding: 'utf8', timeout: 20000 }));

const created = withFleet();
const existing = withFleet((d) => void (d.hostRole = { existingRoleName: 'aspera-ec2' }));
const removed = withFleet((d) => void ((d as Record<string, unknown>).asperaFleets = [{ ...FLEET, docroots: 'removed' }]));
const retired = configOf(ONE_GRANT, (d) => void (d.asperaHosts = [{ host: '203.0.113.10', port: 33001, user: 'ec2-user', retired: true }]));

test('the accounts table names the fleet by its targets and transport, and says the created role gets AmazonSSMManagedInstanceCore', () => {
  const report = reviewReport({ config: created, source: 'aspera.config.json' });
  const fleets = rowOf(report, 'Aspera fleets');
  expect(fleets).toContain(`${code('transfer-asg')} through AWS Systems Manager State Manager (no SSH)`);
  expect(fleets).toContain(`${code('tag "aws:autoscaling:groupName" = "aspera-asg"')} and ${code('tag "Role" = "aspera"')}, those launched later included`);
  expect(fleets).toContain(`full output in ${code('s3://ops-ssm-output/aspera/')}`);
  expect(rowOf(report, 'SSM permissions of the instance role')).toContain(`${code('arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore')} attached to the host role by this stack`);
  expect(grantSectionOf(report, 'xfer2')).toContain(`| Installed on fleets (SSM) | ${code('transfer-asg')} |`);
});

test('an existing host role: the report says it must have AmazonSSMManagedInstanceCore', () => {
  const row = rowOf(reviewReport({ config: existing, source: 'aspera.config.json' }), 'SSM permissions of the instance role');
  expect(row).toContain(`the existing role ${code('arn:aws:iam::222222222222:role/aspera-ec2')} must have ${code('arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore')}`);
});

test('destroy: the report says the association runs nothing on the instances, and how to remove the docroots first', () => {
  const { removes } = destroySectionOf(reviewReport({ config: created, source: 'aspera.config.json' }));
  expect(removes).toContain(`Fleet ${code('transfer-asg')}: its SSM association and document. Deleting an association runs nothing on the instances`);
  expect(removes).toContain('set the fleet\'s "docroots" to "removed" and apply before destroying');
  const report = reviewReport({ config: removed, source: 'aspera.config.json' });
  expect(rowOf(report, 'Aspera fleets')).toContain('runs the uninstall (docroots "removed": it removes the docroots and deletes the access keys this stack created)');
  expect(grantSectionOf(report, 'xfer2')).toContain('| Installed on fleets (SSM) | none |');
});

test('a retired host: marked in the table, no docroot listed on it, not among the hosts destroy cleans', () => {
  const report = reviewReport({ config: retired, source: 'aspera.config.json' });
  expect(rowOf(report, 'Aspera hosts')).toContain('over SSH: retired, the next apply runs the uninstall there and installs nothing');
  expect(grantSectionOf(report, 'xfer2')).toContain('| Installed on | no host configured |');
  expect(destroySectionOf(report).removes).toContain('On the Aspera hosts: nothing');
});

test('the diagram: the fleet node with its transport and targets runs as the host role; a removed fleet and a retired host do not', () => {
  const [withFleetDiagram, removedDiagram, retiredDiagram] = parseMermaid([trustChainDiagram(accessModel(created)), trustChainDiagram(accessModel(removed)), trustChainDiagram(accessModel(retired))]);
  for (const d of [withFleetDiagram, removedDiagram, retiredDiagram]) expect(d.error).toBeUndefined();
  const fleet = withFleetDiagram.vertices.find((v) => v.text.includes('Aspera fleet transfer-asg'));
  expect(fleet?.text).toContain('via SSM State Manager (no SSH)');
  expect(fleet?.text).toContain('aws:autoscaling:groupName');
  expect(withFleetDiagram.edges).toContainEqual(expect.objectContaining({ start: fleet?.id, end: 'hostrole', text: 'runs as' }));
  const gone = removedDiagram.vertices.find((v) => v.text.includes('Aspera fleet transfer-asg'));
  expect(gone?.text).toContain('runs the uninstall');
  expect(removedDiagram.edges.filter((e) => e.start === gone?.id)).toEqual([]);
  const host = retiredDiagram.vertices.find((v) => v.text.includes('Aspera host 203.0.113.10:33001'));
  expect(host?.text).toContain('retired: uninstall at next apply');
  expect(retiredDiagram.edges.filter((e) => e.start === host?.id)).toEqual([]);
});
