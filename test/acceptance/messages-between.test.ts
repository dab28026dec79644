import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { built, jsonLines, killAll, makeProject, removeTempDirs, spawnDev, wf } from './support.js';

const project = {
  'src/activities/index.ts': 'export async function noop(): Promise<void> {}\n',
  'src/workflows/index.ts': `import { condition, defineSignal, getExternalWorkflowHandle, setHandler } from 'wfkit/workflow';

export const add = defineSignal<[string]>('add');

/** A cart: collects items until it has three. */
export async function cart(): Promise<string[]> {
  const items: string[] = [];
  setHandler(add, (item) => {
    items.push(item);
  });
  await condition(() => items.length >= 3);
  return items;
}

/** Adds an item to another workflow's cart, workflow to workflow. */
export async function shopper(cartId: string, item: string): Promise<string> {
  await getExternalWorkflowHandle(cartId).signal(add, item);
  return 'added ' + item;
}
`,
};

describe.skipIf(!built)('acceptance: signal-with-start and signals between workflows (needs a build)', () => {
  afterEach(killAll);
  afterAll(removeTempDirs);

  it('wf signal-with-start starts the cart once and feeds it; another workflow adds the last item', async () => {
    const dir = await makeProject(project);
    const dev = await spawnDev(dir);
    const env = { WF_ADDRESS: dev.url };
    const first = await wf(
      [
        'signal-with-start',
        '--type',
        'cart',
        '-w',
        'cart-1',
        '--signal-name',
        'add',
        '--signal-input',
        '"apple"',
        '-o',
        'json',
      ],
      env,
    );
    expect(first.code).toBe(0);
    const second = await wf(
      [
        'signal-with-start',
        '--type',
        'cart',
        '-w',
        'cart-1',
        '--signal-name',
        'add',
        '--signal-input',
        '"pear"',
        '-o',
        'json',
      ],
      env,
    );
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).runId).toBe(JSON.parse(first.stdout).runId);

    const shopper = await wf(
      [
        'execute',
        '--type',
        'shopper',
        '-w',
        'shopper-1',
        '--input',
        '"cart-1"',
        '--input',
        '"plum"',
        '-o',
        'json',
      ],
      env,
    );
    expect(shopper.code).toBe(0);
    expect(JSON.parse(shopper.stdout).result).toBe('added plum');

    const result = await wf(['result', '-w', 'cart-1', '-o', 'json'], env);
    expect(JSON.parse(result.stdout)).toEqual(['apple', 'pear', 'plum']);
    const history = jsonLines<{ type: string; withStart?: boolean; requestId?: string }>(
      (await wf(['show', '-w', 'cart-1', '-o', 'json'], env)).stdout,
    );
    const signals = history.filter((e) => e.type === 'WorkflowSignaled');
    expect(signals.map((s) => Boolean(s.withStart))).toEqual([true, false, false]);
    expect(signals[2]!.requestId).toMatch(/:1$/);
  });
});
