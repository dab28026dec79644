import { Args, Flags } from '@oclif/core';
import { LocalCommand, projectFlags } from './base.js';

export class Replay extends LocalCommand {
  static override summary = 'Replay recorded histories against the current code; exit 1 on non-determinism.';
  static override description =
    'Replays each history (JSON Lines files, directories of them, or the runs in a store) against the workflows ' +
    'as they are now. A history the code no longer produces fails with the event where it diverged, what the ' +
    'history recorded, what the code issued instead, both source lines, and how to fix it with patched(). Made for CI.';
  static override examples = [
    '<%= config.bin %> replay test/histories',
    '<%= config.bin %> replay order-1.jsonl order-2.jsonl',
    '<%= config.bin %> replay --from-store .wf',
    '<%= config.bin %> replay --from-store postgres://app@db:5432/app',
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
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Replay);
    const paths = argv as string[];
    const { InvalidArgumentError } = await import('../common/errors.js');
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
        const mark = outcome.status === 'ok' ? 'ok  ' : 'FAIL';
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
      this.log(
        `${summary.ok} of ${summary.outcomes.length} histories replayed (${summary.events} events in ${Math.round(summary.ms)} ms)`,
      );
    }
    if (summary.failed > 0) process.exitCode = 1;
  }
}
