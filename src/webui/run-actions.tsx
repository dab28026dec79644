/**
 * What can be done to a run: signal, query, update (arguments in a checked JSON editor), cancel,
 * terminate with a reason, and download its history as JSON Lines (the `wf export` format).
 */
import { useState } from 'react';
import type { HistoryEvent, RunRef } from '../protocol/service.js';
import { api } from './api.js';
import { pretty } from './format.js';
import { checkJson, JsonEditor } from './json-editor.js';

type Kind = 'signal' | 'query' | 'update';

/** A history as `wf export` writes it: one event's JSON a line, each line ending with a newline. */
export function historyJsonl(events: readonly HistoryEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** A file name from a workflow ID: characters file systems dislike become `_`. */
export function exportFileName(workflowId: string, runId: string): string {
  const safe = workflowId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'workflow';
  return `${safe}-${runId.slice(0, 8)}.jsonl`;
}

export function download(text: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function MessageForm({ kind, target, open }: { kind: Kind; target: RunRef; open: boolean }) {
  const [name, setName] = useState('');
  const [args, setArgs] = useState('[]');
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<{ ok: boolean; text: string } | undefined>();
  const check = checkJson(args, 'array');
  const disabled = busy || !check.ok || name.trim() === '' || (kind !== 'query' && !open);
  const send = async () => {
    if (!check.ok) return;
    setBusy(true);
    setAnswer(undefined);
    try {
      const values = check.value as unknown[];
      if (kind === 'signal') {
        await api.signal(target, name.trim(), values);
        setAnswer({ ok: true, text: 'signal recorded' });
      } else {
        const res = await (kind === 'query' ? api.query : api.update)(target, name.trim(), values);
        setAnswer({ ok: true, text: 'result' in res ? pretty(res.result) : 'undefined' });
      }
    } catch (e) {
      setAnswer({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="action"
      data-testid={`${kind}-form`}
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <label>
        {kind[0]!.toUpperCase() + kind.slice(1)} name{' '}
        <input value={name} onChange={(e) => setName(e.target.value)} aria-label={`${kind} name`} />
      </label>
      <JsonEditor label="Arguments (JSON array)" value={args} onChange={setArgs} check={check} rows={2} />
      <button type="submit" disabled={disabled}>
        {kind === 'signal' ? 'Send signal' : kind === 'query' ? 'Run query' : 'Send update'}
      </button>
      {answer ? (
        <pre className={answer.ok ? 'answer' : 'answer error'} data-testid={`${kind}-answer`}>
          {answer.text}
        </pre>
      ) : null}
    </form>
  );
}

function EndForm({ kind, target }: { kind: 'cancel' | 'terminate'; target: RunRef }) {
  const [reason, setReason] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState('');
  const act = async () => {
    setError('');
    try {
      await (kind === 'cancel' ? api.cancel : api.terminate)(target, reason.trim() || undefined);
      setConfirm(false);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <form
      className="action"
      onSubmit={(e) => {
        e.preventDefault();
        if (confirm) void act();
        else setConfirm(true);
      }}
    >
      <label>
        Reason{' '}
        <input value={reason} onChange={(e) => setReason(e.target.value)} aria-label={`${kind} reason`} />
      </label>
      <button type="submit" className={kind === 'terminate' ? 'danger' : undefined}>
        {confirm ? `Really ${kind}?` : kind === 'cancel' ? 'Request cancellation' : 'Terminate'}
      </button>
      {confirm ? (
        <button type="button" onClick={() => setConfirm(false)}>
          Keep it running
        </button>
      ) : null}
      {error ? <span className="error">{error}</span> : null}
    </form>
  );
}

export function RunActions({
  target,
  open,
  events,
}: {
  target: Required<RunRef>;
  open: boolean;
  events: readonly HistoryEvent[];
}) {
  const [tab, setTab] = useState<Kind | 'cancel' | 'terminate'>('signal');
  const tabs = open ? (['signal', 'query', 'update', 'cancel', 'terminate'] as const) : (['query'] as const);
  const current = (tabs as readonly string[]).includes(tab) ? tab : tabs[0];
  return (
    <section className="card actions">
      <div className="tabs" role="tablist">
        {tabs.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={current === t}
            className={current === t ? 'tab active' : 'tab'}
            onClick={() => setTab(t)}
          >
            {t}
          </button>
        ))}
        <span className="grow" />
        <button
          type="button"
          onClick={() => download(historyJsonl(events), exportFileName(target.workflowId, target.runId))}
        >
          Download history (JSONL)
        </button>
      </div>
      {current === 'signal' || current === 'query' || current === 'update' ? (
        <MessageForm key={current} kind={current} target={target} open={open} />
      ) : (
        <EndForm key={current} kind={current} target={target} />
      )}
    </section>
  );
}
