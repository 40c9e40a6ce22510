/**
 * Prints one plain closing line, "tests: N passed, N failed, N skipped", after jest's own summary,
 * so that CI logs (and tools that read them) get the counts in a fixed form.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
