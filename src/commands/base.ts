import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { DEFAULT_MAX_CONCURRENT_ACTIVITIES } from '../common/defaults.js';
import { WfError } from '../common/errors.js';
import { errorToFailure } from '../common/failure-convert.js';
import { printableLines, terminalJson } from '../common/printable.js';

/** Exit codes: 1 for failures (not found, workflow failed, server down), 2 for bad usage. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Flags shared by every command that talks to a dev server. */
export const workflowIdFlag = Flags.string({
  char: 'w',
  description: 'Workflow ID.',
  required: true,
});

export const runIdFlag = Flags.string({
  char: 'r',
  description: 'Run ID. Default: the latest run of the workflow ID.',
});

export const inputFlag = Flags.string({
  char: 'i',
  description: 'An argument as JSON. Repeat for several arguments, in order.',
  multiple: true,
});

/**
 * The base of commands that talk to a dev server: `--address`, `--output`, and errors turned into
 * one line on stderr with an exit code instead of a stack trace.
 */
export abstract class WfCommand extends Command {
  static override baseFlags = {
    address: Flags.string({
      description:
        'Dev server address: host:port, :port, [::1]:port or http(s)://host:port. Default: 127.0.0.1:7466.',
      env: 'WF_ADDRESS',
      helpGroup: 'GLOBAL',
    }),
    'api-token': Flags.string({
      description: 'API token of a `wf serve` that requires one (sent as a bearer token).',
      env: 'WF_API_TOKEN',
      helpGroup: 'GLOBAL',
    }),
    output: Flags.option({
      char: 'o',
      description: 'Output format.',
      options: ['text', 'json'] as const,
      default: 'text' as const,
      helpGroup: 'GLOBAL',
    })(),
  };

  /** Colour only for a terminal, and never when NO_COLOR is set. */
  protected get color(): boolean {
    return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  }

  /** Prints a value as one JSON line. */
  protected printJson(value: unknown): void {
    process.stdout.write(`${terminalJson(JSON.stringify(value === undefined ? null : value))}\n`);
  }

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<void> {
    // oclif's own usage errors (missing flag, bad option) print themselves and exit 2.
    if (err.oclif) throw err;
    reportError(err, this.argv);
  }
}

/** Prints an error for a person (stderr) and, with --output json, for a script (stdout); sets the exit code. */
export function reportError(err: Error, argv: readonly string[]): void {
  const { message, exitCode } = describeError(err);
  // Messages carry user text (IDs, failure messages from workflow code): never raw escape sequences.
  process.stderr.write(`${printableLines(message)}\n`);
  // Scripts reading --output json get the error as JSON on stdout too.
  if (wantsJson(argv)) {
    const code =
      err instanceof WfError ? err.code : err.name === 'WorkflowFailedError' ? 'WORKFLOW_FAILED' : 'INTERNAL';
    const cause = (err as { cause?: unknown }).cause;
    const failure =
      err.name === 'WorkflowFailedError' && cause !== undefined ? { failure: errorToFailure(cause) } : {};
    process.stdout.write(
      `${terminalJson(JSON.stringify({ error: { code, message: err.message, ...failure } }))}\n`,
    );
  }
  process.exitCode = exitCode;
}

function wantsJson(argv: readonly string[]): boolean {
  return argv.some(
    (arg, i) =>
      arg === '--output=json' ||
      arg === '-ojson' ||
      ((arg === '--output' || arg === '-o') && argv[i + 1] === 'json'),
  );
}

/** The line a user sees for an error, and the exit code that goes with it. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof WfError) {
    switch (err.code) {
      case 'INVALID_ARGUMENT':
      case 'UNKNOWN_WORKFLOW_TYPE':
        return { message: `Error: ${err.message}`, exitCode: EXIT_USAGE };
      case 'INTERNAL':
        return { message: bugMessage(err), exitCode: EXIT_FAILURE };
      default:
        return { message: `Error: ${err.message}`, exitCode: EXIT_FAILURE };
    }
  }
  if (err instanceof Error && err.name === 'WorkflowFailedError') {
    return { message: `Error: ${err.message}`, exitCode: EXIT_FAILURE };
  }
  return { message: bugMessage(err), exitCode: EXIT_FAILURE };
}

function bugMessage(err: unknown): string {
  const detail = err instanceof Error ? err.message : String(err);
  const stack = process.env.DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return (
    `Error: ${detail}\n` +
    'This looks like a bug in wf. Please report it with the command you ran (set DEBUG=1 for a stack trace).' +
    stack
  );
}

/** Flags of commands that run the engine in this process on a project (`wf dev`, `wf run`). */
export const projectFlags = {
  project: Flags.string({
    char: 'p',
    description: 'Project directory. Default: the current directory.',
  }),
  workflows: Flags.string({
    description: 'Workflows entry. Default: src/workflows/index.ts (or "workflows" in wf.config.json).',
  }),
  activities: Flags.string({
    description: 'Activities entry. Default: src/activities/index.ts (or "activities" in wf.config.json).',
  }),
  store: Flags.string({
    description: 'Store: a directory kept between runs, or a postgres:// URL. Default: .wf in the project.',
  }),
};

/** The base of commands that run the engine themselves: errors as one line and an exit code. */
export abstract class LocalCommand extends Command {
  protected get color(): boolean {
    return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  }

  protected override async catch(err: Error & { oclif?: { exit?: number } }): Promise<void> {
    if (err.oclif) throw err;
    reportError(err, this.argv);
  }
}

/** Flags of the commands that serve a project over HTTP (`wf dev`, `wf serve`). */
export const serverFlags = {
  otel: Flags.boolean({
    description:
      'Export OpenTelemetry traces over OTLP/HTTP (to OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318). ' +
      'Also on when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT or OTEL_TRACES_EXPORTER=otlp is set; OTEL_SDK_DISABLED=true turns it off.',
  }),
  'metrics-port': Flags.integer({
    description:
      'Also serve GET /metrics (Prometheus) alone on this port, for scrapers. It is always on the API port too.',
    min: 0,
    max: 65535,
  }),
  'max-cached-runs': Flags.integer({
    description:
      'Runs kept in memory; idle runs past this are evicted and rebuilt by replay when they wake. Default: 1000.',
  }),
  'max-concurrent-activities': Flags.integer({
    description: `Activities running at once in this process; more wait their turn. Default: ${DEFAULT_MAX_CONCURRENT_ACTIVITIES}.`,
  }),
};

/** What `serverFlags` ask of the server, as its options (unset flags left out). */
export function serverOptionsOf(flags: {
  otel: boolean;
  'metrics-port'?: number | undefined;
  'max-cached-runs'?: number | undefined;
  'max-concurrent-activities'?: number | undefined;
}): { otel?: true; metricsPort?: number; maxCachedRuns?: number; maxConcurrentActivities?: number } {
  return {
    ...(flags.otel ? { otel: true as const } : {}),
    ...(flags['metrics-port'] !== undefined ? { metricsPort: flags['metrics-port'] } : {}),
    ...(flags['max-cached-runs'] ? { maxCachedRuns: flags['max-cached-runs'] } : {}),
    ...(flags['max-concurrent-activities']
      ? { maxConcurrentActivities: flags['max-concurrent-activities'] }
      : {}),
  };
}
