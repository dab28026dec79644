/** Plain-text renderings of client results for the CLI (`--output text`). */

import pc from 'picocolors';
import { printable, terminalJson } from '../common/printable.js';
import type { CallSite } from '../history/events.js';
import type { RunSummary } from '../history/store.js';
import type { RunDescription } from '../protocol/service.js';
import { summarizeFailure } from './timeline.js';

export interface RenderOptions {
  color: boolean;
}

/** A value as the CLI prints it: strings bare, everything else as indented JSON. */
export function renderValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return value;
  return terminalJson(JSON.stringify(value, null, 2));
}

function statusColor(c: ReturnType<typeof pc.createColors>, status: string): string {
  switch (status) {
    case 'RUNNING':
      return c.cyan(status);
    case 'COMPLETED':
      return c.green(status);
    case 'CONTINUED_AS_NEW':
      return c.blue(status);
    case 'PAUSED':
      return c.yellow(status);
    default:
      return c.red(status);
  }
}

/** Runs as an aligned table, newest first. */
export function renderRunTable(runs: readonly RunSummary[], options: RenderOptions): string {
  if (runs.length === 0) return 'no workflows';
  const c = pc.createColors(options.color);
  // Stores shared by several servers record which build of the code wrote each run (rolling deploys).
  const builds = runs.some((r) => r.buildId !== undefined);
  const header = [
    'WORKFLOW ID',
    'TYPE',
    'STATUS',
    'STARTED',
    'EVENTS',
    ...(builds ? ['BUILD'] : []),
    'RUN ID',
  ];
  const rows = runs.map((r) => [
    printable(r.workflowId),
    printable(r.workflowType),
    r.paused && r.status === 'RUNNING' ? 'PAUSED' : r.status,
    r.startTime,
    String(r.historyLength),
    ...(builds ? [printable(r.buildId ?? '-')] : []),
    r.runId,
  ]);
  const runIdColumn = header.length - 1;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[], paint: (s: string, i: number) => string) =>
    cells
      .map((cell, i) => paint(i === cells.length - 1 ? cell : cell.padEnd(widths[i]!), i))
      .join('  ')
      .trimEnd();
  return [
    line(header, (s) => c.bold(s)),
    ...rows.map((row) =>
      line(row, (s, i) =>
        i === 2 ? s.replace(row[2]!, statusColor(c, row[2]!)) : i === runIdColumn ? c.dim(s) : s,
      ),
    ),
  ].join('\n');
}

/** A run's description as `key: value` lines, with pending work below. */
export function renderDescription(d: RunDescription, options: RenderOptions): string {
  const c = pc.createColors(options.color);
  const lines = [
    `${c.bold('Workflow ID')}  ${printable(d.workflowId)}`,
    `${c.bold('Run ID')}       ${printable(d.runId)}`,
    `${c.bold('Type')}         ${printable(d.workflowType)}`,
    `${c.bold('Status')}       ${statusColor(c, d.paused && d.status === 'RUNNING' ? 'PAUSED' : d.status)}`,
    `${c.bold('Started')}      ${d.startTime}`,
  ];
  if (d.closeTime) lines.push(`${c.bold('Closed')}       ${d.closeTime}`);
  lines.push(`${c.bold('Events')}       ${d.historyLength}`);
  if (d.buildId)
    lines.push(`${c.bold('Build')}        ${printable(d.buildId)} (the code that last wrote this run)`);
  if (d.paused) lines.push(`${c.bold('Paused')}       ${c.yellow(d.paused.reason)}`);
  if (d.corruption) {
    lines.push(
      `${c.bold('Corrupt')}      ${c.red(`${d.corruption.file}:${d.corruption.line}: ${d.corruption.message}`)}`,
    );
  }
  if (d.pendingActivities.length) {
    lines.push('', c.bold('Pending activities'));
    for (const a of d.pendingActivities) {
      const last = a.lastFailure ? `, last failure: ${summarizeFailure(a.lastFailure)}` : '';
      lines.push(`  #${a.seq} ${a.activityType} attempt ${a.attempt}${at(a.callSite)}${last}`);
    }
  }
  if (d.pendingTimers.length) {
    lines.push('', c.bold('Pending timers'));
    for (const t of d.pendingTimers) lines.push(`  #${t.seq} fires at ${t.fireAt}${at(t.callSite)}`);
  }
  return lines.join('\n');
}

/** ` (src/workflows/order.ts:32)`: where the workflow code awaits the pending work. */
function at(site: CallSite | undefined): string {
  return site ? ` (${site.file}:${site.line})` : '';
}
