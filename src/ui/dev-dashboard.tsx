import { Box, Text } from 'ink';
import { formatDuration } from '../common/format-duration.js';
import { printable } from '../common/printable.js';
import { progressBar } from './progress.js';
import type { RunRow } from './run-board.js';

export interface DevDashboardProps {
  /** First line of the live panel, e.g. the address. */
  title: string;
  /** Runs, most recent first. */
  runs: RunRow[];
  /** Rows shown in the panel. */
  maxRows?: number;
  /** How far `wf time skip` moved the server's clock; shown when not zero. */
  timeOffsetMs?: number;
}

const STATUS_COLORS: Record<string, string> = {
  RUNNING: 'cyan',
  COMPLETED: 'green',
  FAILED: 'red',
  TERMINATED: 'red',
  TIMED_OUT: 'red',
  CANCELED: 'yellow',
  CONTINUED_AS_NEW: 'blue',
  PAUSED: 'magenta',
};

/** User text (IDs, names, failure messages) escaped for the terminal, then cut to `width`. */
const cut = (raw: string, width: number) => {
  const text = printable(raw);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
};

/**
 * The live panel of `wf dev`: the latest runs, their status, a progress bar for runs that answer a
 * `progress` query, why paused runs are paused, and the clock offset. Log lines scroll above it.
 */
export function DevDashboard({ title, runs, maxRows = 8, timeOffsetMs = 0 }: DevDashboardProps) {
  const shown = runs.slice(0, maxRows);
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{title}</Text>
      {timeOffsetMs > 0 ? (
        <Text color="yellow">
          time: {formatDuration(timeOffsetMs)} ahead of real time (wf time skip; kept in the store)
        </Text>
      ) : null}
      {shown.length === 0 ? (
        <Text dimColor>no runs yet: wf start --type &lt;workflow&gt; --workflow-id &lt;id&gt;</Text>
      ) : (
        shown.map((run) => (
          <Box key={`${run.workflowId}/${run.runId}`} flexDirection="column">
            <Box>
              <Box width={26}>
                <Text>{cut(run.workflowId, 25)}</Text>
              </Box>
              <Box width={20}>
                <Text dimColor>{cut(run.workflowType, 19)}</Text>
              </Box>
              <Box width={18}>
                <Text color={STATUS_COLORS[run.status] ?? 'white'}>{run.status}</Text>
              </Box>
              <Box width={6}>
                <Text dimColor>{String(run.events)}</Text>
              </Box>
              {run.progress && run.status === 'RUNNING' ? (
                <Text color="cyan">{progressBar(run.progress)} </Text>
              ) : null}
              <Text>{cut(run.lastEvent, run.progress ? 24 : 40)}</Text>
            </Box>
            {run.pausedReason !== undefined ? (
              <Text color="magenta">
                {'  ↳ '}
                {cut(run.pausedReason.split('\n')[0] ?? '', 100)}
              </Text>
            ) : null}
          </Box>
        ))
      )}
      {runs.length > shown.length ? (
        <Text dimColor>…and {runs.length - shown.length} more (wf list)</Text>
      ) : null}
    </Box>
  );
}
