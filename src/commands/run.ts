import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { printable, terminalJson } from '../common/printable.js';
import { inputFlag, LocalCommand, projectFlags } from './base.js';

export class Run extends LocalCommand {
  static override summary = 'Run one workflow to completion in this process and print its result.';
  static override description =
    'Starts the engine in-process on the project (no dev server needed), runs the workflow durably on the ' +
    'store in .wf/, prints the result and exits 0, or prints the failure and exits 1.';
  static override examples = [
    `<%= config.bin %> run orderWorkflow --input '{"orderId":"order-1","amount":4999,"items":[],"email":"ada@example.com"}'`,
    '<%= config.bin %> run greet --input \'"Ada"\' --timeline',
  ];
  static override args = {
    workflowType: Args.string({
      description: 'Workflow type: an exported workflow function.',
      required: true,
    }),
  };
  static override flags = {
    ...projectFlags,
    input: inputFlag,
    'workflow-id': Flags.string({ char: 'w', description: 'Workflow ID. Default: <type>-<random>.' }),
    timeline: Flags.boolean({ description: 'Print the recorded history as a timeline after the result.' }),
    output: Flags.option({ char: 'o', options: ['text', 'json'] as const, default: 'text' as const })(),
    otel: Flags.boolean({
      description:
        'Export OpenTelemetry traces over OTLP/HTTP, as wf dev --otel does (also on with OTEL_EXPORTER_OTLP_ENDPOINT).',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Run);
    const { parseJsonValues } = await import('../client/operations.js');
    const inputs = parseJsonValues('--input', flags.input);
    const { resolveProject } = await import('../devserver/project-config.js');
    const { runWorkflowOnce } = await import('../devserver/run-once.js');
    const config = await resolveProject({
      ...(flags.project ? { dir: flags.project } : {}),
      ...(flags.workflows ? { workflows: flags.workflows } : {}),
      ...(flags.activities ? { activities: flags.activities } : {}),
      ...(flags.store ? { store: flags.store } : {}),
    });
    const json = flags.output === 'json';
    const result = await runWorkflowOnce({
      config,
      workflowType: args.workflowType,
      args: inputs,
      ...(flags['workflow-id'] ? { workflowId: flags['workflow-id'] } : {}),
      ...(json ? {} : { workflowLog: (line: string) => this.log(line) }),
      warn: (line: string) => process.stderr.write(`${line}\n`),
      ...(flags.otel ? { otel: true } : {}),
    });
    const { outcome } = result;
    if (json) {
      process.stdout.write(
        `${terminalJson(JSON.stringify({ workflowId: result.workflowId, runId: result.runId, ...outcome }))}\n`,
      );
    } else {
      this.log(
        `workflow ${printable(result.workflowId)} (run ${result.runId}) ${outcome.status.toLowerCase()}`,
      );
      if (outcome.status === 'COMPLETED')
        this.log(`result: ${terminalJson(JSON.stringify(outcome.result, null, 2))}`);
      if (outcome.status === 'FAILED') {
        const { summarizeFailure } = await import('../ui/timeline.js');
        process.stderr.write(
          `Error: workflow ${result.workflowId} failed: ${summarizeFailure(outcome.failure)}\n`,
        );
      }
      if (flags.timeline) {
        const { formatTimeline } = await import('../ui/timeline.js');
        this.log('');
        this.log('history:');
        this.log(formatTimeline(result.history, { color: this.color }));
      }
    }
    if (outcome.status !== 'COMPLETED') process.exitCode = 1;
  }
}
