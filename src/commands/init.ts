import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
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
    '<%= config.bin %> init my-app --wfkit file:../wf',
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
    wfkit: Flags.string({
      description:
        "The project's wfkit dependency, as an npm spec (a range, a tarball, a folder: file:../wf). Default: " +
        'the published range when wf came from the registry; from a checkout, a tarball of it that init packs into vendor/.',
    }),
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
      ...(flags.wfkit === undefined ? {} : { wfkit: flags.wfkit }),
      ...(flags.name ? { projectName: flags.name } : {}),
    });
    this.log(`Created ${result.projectName} from the ${result.template.name} template in ${result.dir}`);
    this.log(`  ${result.template.summary}`);
    this.log(
      `  wfkit: ${result.wfkit.spec}${result.wfkit.kind === 'tarball' ? ` (this wf, packed from ${result.wfkit.checkout})` : ''}`,
    );
    this.log('');
    this.log('Next steps:');
    for (const step of result.nextSteps) this.log(`  ${step}`);
  }
}
