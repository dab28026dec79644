/**
 * `wf replay --reporter github`: GitHub Actions workflow commands, so a pull request shows each
 * divergence as an annotation on the workflow source line that issued the command (an error), and
 * a notice on the line that recorded the history's event; an unreadable history is an error on
 * its own file and line.
 */
import path from 'node:path';
import type { CallSite } from '../history/events.js';
import type { ReplayOutcome, ReplaySummary } from './replay-runner.js';

export interface GithubReportOptions {
  /** The project root that call sites' files are relative to. */
  root: string;
  /** The directory annotation paths are made relative to: the repository checkout. Default: cwd. */
  cwd?: string;
}

/** The workflow command lines for a replay summary (one per annotation; nothing for histories that replayed). */
export function githubAnnotations(summary: ReplaySummary, options: GithubReportOptions): string[] {
  const cwd = options.cwd ?? process.cwd();
  const lines: string[] = [];
  for (const outcome of summary.outcomes) {
    if (outcome.status === 'nondeterministic') lines.push(...divergence(outcome, options.root, cwd));
    else if (outcome.status === 'error') {
      lines.push(
        command(
          'error',
          {
            ...(isFile(outcome.source) ? { file: outcome.source } : {}),
            ...(outcome.line === undefined ? {} : { line: outcome.line }),
            title: `wf replay: unreadable history ${outcome.source}`,
          },
          outcome.message ?? 'the history cannot be read',
        ),
      );
    }
  }
  return lines;
}

function divergence(outcome: ReplayOutcome, root: string, cwd: string): string[] {
  const what = `${outcome.workflowType ?? 'workflow'} no longer replays ${outcome.source}`;
  const message = outcome.message ?? what;
  const lines: string[] = [];
  lines.push(
    command(
      'error',
      outcome.codeSite
        ? { ...site(outcome.codeSite, root, cwd), title: `wf replay: ${what}` }
        : { ...(isFile(outcome.source) ? { file: outcome.source } : {}), title: `wf replay: ${what}` },
      message,
    ),
  );
  if (outcome.recordedSite) {
    lines.push(
      command(
        'notice',
        { ...site(outcome.recordedSite, root, cwd), title: `wf replay: ${outcome.source} recorded this` },
        `The history ${outcome.source} recorded its event from this line; the code now diverges (see the error).`,
      ),
    );
  }
  return lines;
}

function site(callSite: CallSite, root: string, cwd: string): { file: string; line: number; col?: number } {
  const file = path.relative(cwd, path.resolve(root, callSite.file)).split(path.sep).join('/');
  return { file, line: callSite.line, ...(callSite.column > 0 ? { col: callSite.column } : {}) };
}

function isFile(source: string): boolean {
  return !source.startsWith('store:');
}

/** `::name key=value,...::message`, escaped as GitHub's workflow command parser expects. */
export function command(name: string, properties: Record<string, string | number>, message: string): string {
  const props = Object.entries(properties)
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(',');
  return `::${name}${props ? ` ${props}` : ''}::${escapeData(message)}`;
}

/** Escapes a command's message: %, CR and LF. */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** Escapes a property value: as a message, plus : and , (which separate properties). */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}
