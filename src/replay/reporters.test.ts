import { describe, expect, it } from 'vitest';
import { command, escapeData, escapeProperty, githubAnnotations } from './github-reporter.js';
import { junitReport } from './junit-reporter.js';
import type { ReplaySummary } from './replay-runner.js';

const summary: ReplaySummary = {
  outcomes: [
    { source: 'test/histories/ok.jsonl', workflowType: 'order', events: 12, status: 'ok', ms: 3 },
    {
      source: 'test/histories/a,b:c.jsonl',
      workflowType: 'order',
      events: 9,
      status: 'nondeterministic',
      message:
        'replay diverged at event 5\nhistory recorded: <ActivityTaskScheduled> "ship" & 100%\r\nfix: patched()',
      codeSite: { file: 'src/workflows/index.ts', line: 24, column: 11 },
      recordedSite: { file: 'src/workflows/index.ts', line: 22, column: 5 },
      ms: 4,
    },
    {
      source: 'test/histories/broken.jsonl',
      events: 0,
      status: 'error',
      line: 3,
      message: 'test/histories/broken.jsonl:3: not valid JSON \u0001',
    },
  ],
  ok: 1,
  failed: 2,
  nondeterministic: 1,
  unreadable: 1,
  events: 21,
  ms: 12,
};

describe('the GitHub reporter', () => {
  it("escapes per GitHub's workflow-command rules", () => {
    expect(escapeData('50%\r\nnext')).toBe('50%25%0D%0Anext');
    expect(escapeProperty('a,b:c%\n')).toBe('a%2Cb%3Ac%25%0A');
    expect(command('notice', { file: 'x.ts', line: 2 }, 'hi')).toBe('::notice file=x.ts,line=2::hi');
  });

  it('puts the error on the issuing line, a notice on the recording line, and an error on an unreadable file', () => {
    const lines = githubAnnotations(summary, { root: '/repo', cwd: '/repo' });
    expect(lines).toEqual([
      '::error file=src/workflows/index.ts,line=24,col=11,title=wf replay%3A order no longer replays test/histories/a%2Cb%3Ac.jsonl::' +
        'replay diverged at event 5%0Ahistory recorded: <ActivityTaskScheduled> "ship" & 100%25%0D%0Afix: patched()',
      '::notice file=src/workflows/index.ts,line=22,col=5,title=wf replay%3A test/histories/a%2Cb%3Ac.jsonl recorded this::' +
        'The history test/histories/a,b:c.jsonl recorded its event from this line; the code now diverges (see the error).',
      '::error file=test/histories/broken.jsonl,line=3,title=wf replay%3A unreadable history test/histories/broken.jsonl::' +
        'test/histories/broken.jsonl:3: not valid JSON \u0001',
    ]);
  });

  it('names files relative to the repository when the project lies below it', () => {
    const [error] = githubAnnotations(summary, { root: '/repo/services/orders', cwd: '/repo' });
    expect(error).toMatch(/^::error file=services\/orders\/src\/workflows\/index\.ts,line=24,/);
  });
});

describe('the JUnit reporter', () => {
  it('writes one testcase per history, escaped, with failures and errors counted', () => {
    const xml = junitReport(summary);
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>/);
    expect(xml).toMatch(/<testsuite name="wf replay" tests="3" failures="1" errors="1" skipped="0"/);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain('name="test/histories/ok.jsonl"');
    expect(xml).toContain('<failure type="NonDeterminismError" message="replay diverged at event 5">');
    expect(xml).toContain('history recorded: &lt;ActivityTaskScheduled&gt; "ship" &amp; 100%');
    expect(xml).toContain(
      '<error type="UnreadableHistory" message="test/histories/broken.jsonl:3: not valid JSON \uFFFD"',
    );
    // No character XML 1.0 forbids.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });
});
