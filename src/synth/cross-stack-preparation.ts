/**
 * Whether cdktf's cross-stack preparation can find anything to do, the one decision here.
 *
 * Before the resolution that writes cdk.tf.json, cdktf's TerraformStack.prepareStack() resolves
 * every element of the stack once more, with "preparing" set. That pass exists for one thing: a
 * reference to a resource of *another* stack in the same app becomes a remote-state lookup (and
 * an output in the other stack). In an app with a single stack no such reference can exist, so
 * the pass changes nothing, and for a large stack it is about a third of `cdktf synth` (1,000
 * grants: about 0.45 s of CPU). The golden files show the output is the same byte for byte.
 */
import { App, TerraformStack } from 'cdktf';

/** True when the app holds a stack other than `stack`: then cdktf's own preparation must run. */
export const hasOtherStacks = (stack: TerraformStack): boolean =>
  App.of(stack)
    .node.findAll()
    .some((construct) => TerraformStack.isStack(construct) && construct !== stack);
