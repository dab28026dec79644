/**
 * `wf replay --reporter junit --output-file FILE`: a JUnit XML report, one testcase per history
 * (a divergence is a failure, an unreadable history an error), for CI systems that render JUnit.
 * The XML is built with xmlbuilder, which escapes text and attributes; characters XML cannot carry
 * at all (most control characters) are replaced.
 */
import xmlbuilder from 'xmlbuilder';
import type { ReplaySummary } from './replay-runner.js';

/** The report as an XML document. */
export function junitReport(summary: ReplaySummary, options: { suiteName?: string } = {}): string {
  const name = options.suiteName ?? 'wf replay';
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const root = xmlbuilder.create('testsuites', { encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' });
  root.att({
    name,
    tests: summary.outcomes.length,
    failures: summary.nondeterministic,
    errors: summary.unreadable,
    time: seconds(summary.ms),
  });
  const suite = root.ele('testsuite', {
    name,
    tests: summary.outcomes.length,
    failures: summary.nondeterministic,
    errors: summary.unreadable,
    skipped: 0,
    time: seconds(summary.ms),
    timestamp: new Date().toISOString().slice(0, 19),
  });
  for (const outcome of summary.outcomes) {
    const testcase = suite.ele('testcase', {
      classname: outcome.workflowType ?? 'history',
      name: outcome.source,
      ...(outcome.source.startsWith('store:') ? {} : { file: outcome.source }),
      time: seconds(outcome.ms ?? 0),
    });
    const message = outcome.message ?? '';
    const firstLine = message.split('\n')[0] ?? '';
    if (outcome.status === 'nondeterministic') {
      testcase.ele('failure', { type: 'NonDeterminismError', message: firstLine }, message);
    } else if (outcome.status === 'error') {
      testcase.ele('error', { type: 'UnreadableHistory', message: firstLine }, message);
    }
  }
  return root.end({ pretty: true });
}
