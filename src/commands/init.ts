import { Args, Flags } from '@oclif/core';
import { LocalCommand } from './base.js';

const TEMPLATE_NAMES = ['saga', 'background-job', 'approval', 'cron'];

export class Init extends LocalCommand {
  static override summary = 'Create a project from a template: workflows, activities, tests, a history, CI.';
  static override description =
    'Writes a ready project into DIR (default: the current directory): workflows and activities, tests that run ' +
    'them with mocked activities and time skipping, a recorded history that `wf replay` checks, and a CI job. ' +
    `Templates: ${TEMPLATE_NAMES.join(', ')}. Refuses a non-empty directory unless --force is given.`;
  static override examples = [
    '<%= config.bin %> init my-app',
    '<%= config.bin %> init jobs --template background-job',
    '<%= config.bin %> init . --template cron --force',
  ];
  static override args = {
    dir: Args.string({ description: 'Directory to create. Default: the current directory.' }),
  };
  static override flags = {
    template: Flags.string({
      char: 't',
      description: `Template: ${TEMPLATE_NAMES.join(', ')}. Default: saga (asked for in a terminal).`,
    }),
    name: Flags.string({ description: "package.json's name. Default: the directory's name." }),
    force: Flags.boolean({
      description: 'Write into a non-empty directory, overwriting files of the same names.',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Init);
    const { initProject, TEMPLATES } = await import('../devserver/init-project.js');
    let template = flags.template;
    if (template === undefined && process.stdin.isTTY && process.stdout.isTTY && !process.env.CI) {
      const { selectTemplate } = await import('../ui/select-template.js');
      template = await selectTemplate(TEMPLATES);
    }
    const result = await initProject({
      dir: args.dir ?? '.',
      template: template ?? 'saga',
      force: flags.force,
      ...(flags.name ? { projectName: flags.name } : {}),
    });
    this.log(`Created ${result.projectName} from the ${result.template.name} template in ${result.dir}`);
    this.log(`  ${result.template.summary}`);
    this.log('');
    this.log('Next steps:');
    for (const step of result.nextSteps) this.log(`  ${step}`);
  }
}
