import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { LocalCommand, projectFlags } from './base.js';

export class Replay extends LocalCommand {
  static override summary = 'Replay recorded histories against the current code; exit 1 on non-determinism.';
  static override description =
    'Replays each history (JSON Lines files, directories of them, or the runs in a store) against the workflows ' +
    'as they are now. A history the code no longer produces fails with the event where it diverged, what the ' +
    'history recorded, what the code issued instead, both source lines, and how to fix it with patched(). Made for CI.\n\n' +
    'Exit codes: 0 every history replayed; 1 the code does not replay at least one history (and every history ' +
    'could be read); 2 an input error: a history that cannot be read (invalid JSON, an unknown format version, a ' +
    'truncated line; reported with its file and line, the other histories are still replayed and reported), ' +
    'nothing to replay, or bad usage.\n\n' +
    'Reporters (repeatable): text (the default, for people), github (adds GitHub Actions annotations: an error on ' +
    'the workflow line that issued the diverging command, a notice on the line that recorded the event), junit ' +
    '(writes a JUnit XML report, one testcase per history, to --output-file).';
  static override examples = [
    '<%= config.bin %> replay test/histories',
    '<%= config.bin %> replay order-1.jsonl order-2.jsonl',
    '<%= config.bin %> replay --from-store .wf',
    '<%= config.bin %> replay --from-store postgres://app@db:5432/app',
    '<%= config.bin %> replay test/histories --reporter github',
    '<%= config.bin %> replay test/histories --reporter github --reporter junit --output-file replay-report.xml',
  ];
  static override strict = false;
  static override args = {
    paths: Args.string({ description: 'History files (*.jsonl) or directories of them.' }),
  };
  static override flags = {
    project: projectFlags.project,
    workflows: projectFlags.workflows,
    activities: projectFlags.activities,
    'from-store': Flags.string({
      description: 'Also replay every run in this store (read-only): a store directory or a postgres:// URL.',
    }),
    schema: Flags.string({
      description: 'PostgreSQL schema of the store given with --from-store. Default: wf.',
    }),
    'allow-empty': Flags.boolean({ description: 'Succeed when there are no histories to replay.' }),
    output: Flags.option({ char: 'o', options: ['text', 'json'] as const, default: 'text' as const })(),
    reporter: Flags.option({
      description:
        'How to report (repeatable): text, github (workflow-command annotations), junit (XML to --output-file).',
      options: ['text', 'github', 'junit'] as const,
      multiple: true,
    })(),
    'output-file': Flags.string({ description: 'Where --reporter junit writes its XML report.' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Replay);
    const paths = argv as string[];
    const { InvalidArgumentError } = await import('../common/errors.js');
    const reporters = new Set(flags.reporter ?? ['text']);
    if (reporters.has('junit') && !flags['output-file']) {
      throw new InvalidArgumentError(
        '--reporter junit writes XML to a file: add --output-file FILE (e.g. replay-report.xml)',
      );
    }
    if (flags['output-file'] && !reporters.has('junit')) {
      throw new InvalidArgumentError('--output-file is where --reporter junit writes: add --reporter junit');
    }
    if (paths.length === 0 && !flags['from-store']) {
      throw new InvalidArgumentError(
        'nothing to replay: pass history files or directories, or --from-store DIR',
      );
    }
    const { resolveProject } = await import('../devserver/project-config.js');
    const { loadWorkflowCode } = await import('../runtime/workflow-code.js');
    const { replayHistories } = await import('../replay/replay-runner.js');
    const { codeFrame } = await import('../replay/code-frame.js');
    const config = await resolveProject({
      ...(flags.project ? { dir: flags.project } : {}),
      ...(flags.workflows ? { workflows: flags.workflows } : {}),
      ...(flags.activities ? { activities: flags.activities } : {}),
    });
    const code = await loadWorkflowCode({
      workflowsPath: config.workflowsPath,
      ...(config.activitiesPath ? { activitiesPath: config.activitiesPath } : {}),
      projectRoot: config.root,
    });
    const summary = await replayHistories({
      code,
      paths,
      ...(flags['from-store'] ? { storeDir: flags['from-store'] } : {}),
      ...(flags.schema ? { storeSchema: flags.schema } : {}),
      allowEmpty: flags['allow-empty'],
    });
    if (flags.output === 'json') {
      const outcomes = summary.outcomes.map(({ error: _error, ...rest }) => rest);
      process.stdout.write(`${JSON.stringify({ ...summary, outcomes })}\n`);
    } else {
      for (const outcome of summary.outcomes) {
        const mark = outcome.status === 'ok' ? 'ok  ' : outcome.status === 'error' ? 'ERR ' : 'FAIL';
        this.log(`${mark} ${outcome.source} (${outcome.workflowType ?? '?'}, ${outcome.events} events)`);
        if (outcome.message) this.log(outcome.message.replace(/^/gm, '     '));
        const issuedAt = outcome.codeSite;
        if (issuedAt) {
          const frame = codeFrame(config.root, issuedAt);
          if (frame)
            this.log(
              `\n     the code now, at ${issuedAt.file}:${issuedAt.line}:\n${frame.replace(/^/gm, '     ')}\n`,
            );
        }
      }
      const problems = [
        ...(summary.nondeterministic ? [`${summary.nondeterministic} do not replay (exit 1)`] : []),
        ...(summary.unreadable ? [`${summary.unreadable} cannot be read (exit 2)`] : []),
      ];
      this.log(
        `${summary.ok} of ${summary.outcomes.length} histories replayed (${summary.events} events in ${Math.round(summary.ms)} ms)` +
          (problems.length ? `; ${problems.join(', ')}` : ''),
      );
    }
    if (reporters.has('github')) {
      const { githubAnnotations } = await import('../replay/github-reporter.js');
      for (const line of githubAnnotations(summary, { root: config.root })) process.stdout.write(`${line}\n`);
    }
    if (reporters.has('junit')) {
      const { junitReport } = await import('../replay/junit-reporter.js');
      const { mkdir, writeFile } = await import('node:fs/promises');
      const { dirname } = await import('node:path');
      const file = flags['output-file']!;
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, junitReport(summary));
    }
    // Exit 1 is kept for "the code does not replay a history"; an unreadable history is bad input (2).
    if (summary.unreadable > 0) process.exitCode = 2;
    else if (summary.nondeterministic > 0) process.exitCode = 1;
  }
}
