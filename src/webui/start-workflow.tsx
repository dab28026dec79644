/** Starts a run of any workflow type the server's code exports. */
import { useState } from 'react';
import { api } from './api.js';
import { checkJson, JsonEditor } from './json-editor.js';
import { navigate, runHref } from './routes.js';

export function StartWorkflow({ types, onClose }: { types: string[]; onClose: () => void }) {
  const [type, setType] = useState(types[0] ?? '');
  const [workflowId, setWorkflowId] = useState('');
  const [args, setArgs] = useState('[]');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const check = checkJson(args, 'array');
  const submit = async () => {
    if (!check.ok || !type) return;
    setBusy(true);
    setError('');
    try {
      // crypto.randomUUID exists in secure contexts only (not on plain http off loopback).
      const id = workflowId.trim() || `${type}-${Math.random().toString(36).slice(2, 10)}`;
      const started = await api.start({ workflowType: type, workflowId: id, args: check.value as unknown[] });
      onClose();
      navigate(runHref(started.workflowId, started.runId));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="card start"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <h2>Start a workflow</h2>
      <div className="row">
        <label htmlFor="start-type">Type</label>
        {types.length > 0 ? (
          <select id="start-type" value={type} onChange={(e) => setType(e.target.value)}>
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        ) : (
          <input id="start-type" value={type} onChange={(e) => setType(e.target.value)} />
        )}
        <label>
          Workflow ID{' '}
          <input
            value={workflowId}
            placeholder={`${type || 'type'}-… (generated)`}
            onChange={(e) => setWorkflowId(e.target.value)}
            aria-label="workflow ID to start"
          />
        </label>
      </div>
      <JsonEditor label="Arguments (JSON array)" value={args} onChange={setArgs} check={check} />
      {error ? <p className="error">{error}</p> : null}
      <div className="row">
        <button type="submit" disabled={!check.ok || !type || busy}>
          Start
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
