/**
 * Building the stack without cdktf's token stack traces, the one decision here.
 *
 * cdktf captures a full stack trace (Error.stackTraceLimit raised to the maximum) for every token
 * it creates (Lazy, Intrinsic and a few list/dynamic types), and keeps it only to name where a
 * token was created in an error about resolving that token. Measured: about 3,000 tokens for 100
 * grants, over a third of building the stack. With capture off, such an error still says what is
 * wrong, without the "created at" trace; errors thrown by our own code keep their stack traces.
 *
 * cdktf has no switch for it (the App's `stackTraces: false` only concerns construct metadata), so
 * the capture function of cdktf/lib/tokens/private/stack-trace is replaced while `build` runs and
 * put back afterwards. Every caller reads it from that module's exports at call time
 * (`(0, stack_trace_1.captureStackTrace)()` in cdktf's compiled code), which is what makes the
 * replacement reach them; __tests__/synth-speed.test.ts checks that it does for the cdktf installed.
 */

interface StackTraceModule {
  captureStackTrace(below?: unknown): string[];
}

const STACK_TRACE_MODULE = 'cdktf/lib/tokens/private/stack-trace';

/** Runs `build` with cdktf's token stack-trace capture off; restores it whatever happens. */
export function withoutTokenStackTraces<T>(build: () => T): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const traces = require(STACK_TRACE_MODULE) as StackTraceModule;
  if (typeof traces.captureStackTrace !== 'function') throw new Error(`${STACK_TRACE_MODULE} has no captureStackTrace: cdktf changed, revisit src/synth/token-stack-traces.ts`);
  const capture = traces.captureStackTrace;
  traces.captureStackTrace = () => [];
  try {
    return build();
  } finally {
    traces.captureStackTrace = capture;
  }
}
