/**
 * Synthesizing without Node's DEP0044 warning, the one decision here.
 *
 * cdktf (0.21.0, its last release) tells an output's value apart from a resource with
 * `util.isArray` (TerraformOutput.isITerraformAddressable). Node 20 documents that function as
 * deprecated and has it be Array.isArray; Node 22 made the deprecation a runtime one, so from
 * Node 22 on every synth of a stack with an object- or list-valued output printed
 * "[DEP0044] DeprecationWarning: The `util.isArray` API is deprecated" to stderr.
 *
 * util.isArray is Array.isArray wrapped in that warning, so while `build` runs it is
 * Array.isArray itself, and it is put back afterwards. cdktf reads it from the util module at call
 * time (`(0, util_2.isArray)(object)` in its compiled code), which is what makes the replacement
 * reach it; __tests__/util-is-array.test.ts checks that it does for the cdktf installed.
 */
type UtilWithIsArray = { isArray: (value: unknown) => value is unknown[] };

/** Runs `build` with util.isArray being Array.isArray; restores it whatever happens. */
export function withoutUtilIsArrayWarning<T>(build: () => T): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const utilModule = require('node:util') as UtilWithIsArray;
  const isArray = utilModule.isArray;
  utilModule.isArray = Array.isArray;
  try {
    return build();
  } finally {
    utilModule.isArray = isArray;
  }
}
