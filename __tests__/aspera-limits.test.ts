/**
 * src/aspera/limits.ts: what SSM would refuse of the fleets' documents is refused at synth. The
 * schema keeps every real document far below SSM's 64 KB (aspera-fleets-synth.test.ts measures
 * one at 5,000 grants); this proves the check itself, fed a key prefix past the schema's 500.
 */
import { hostPathLimitProblems } from '../src/aspera/limits';
import { SSM_DOCUMENT_MAX_BYTES } from '../src/aspera/ssm-document';
import { testConfig } from './helpers/aspera-host';

const FLEET = { name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, scriptS3: { bucket: 'media-ops-aspera-scripts' } };

test('a document within 64 KB passes; one above is refused, naming the field and the bound', () => {
  const config = testConfig({ asperaFleets: [FLEET] } as never);
  expect(hostPathLimitProblems(config)).toEqual([]);
  const long = { ...config, asperaFleets: [{ ...config.asperaFleets[0], scriptS3: { bucket: 'media-ops-aspera-scripts', keyPrefix: 'a/'.repeat(SSM_DOCUMENT_MAX_BYTES / 2) } }] };
  expect(hostPathLimitProblems(long)).toEqual([
    { path: ['asperaFleets', 0, 'scriptS3', 'keyPrefix'], message: expect.stringMatching(/^makes the SSM document of fleet transfer-asg [\d,]+ bytes; SSM allows 65,536 per document: use a shorter key prefix$/) },
  ]);
});
