import { describe, expect, it } from 'vitest';
import { assign, createMachine, fromPromise, not, setup } from 'xstate';
import { describeMachine, machineToMermaid } from '../../src/diagram/index.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';
import { mermaidProblems } from './mermaidSyntax.js';

// A small machine with one of each construct the generator must draw.
const subject = setup({
  types: {
    context: {} as { count: number; label: string },
    events: {} as { type: 'go' } | { type: 'odd:event;#x' } | { type: 'poke' },
  },
  actors: { fetchData: fromPromise(async () => 1) },
  guards: { isReady: () => true, isDone: () => false, isUnused: () => true },
  actions: { countUp: assign({ count: ({ context }) => context.count + 1 }), logIt: () => {} },
  delays: { patience: 500 },
}).createMachine({
  id: 'sample',
  initial: 'idle',
  context: { count: 0, label: 'x' },
  states: {
    idle: {
      on: {
        go: [{ guard: 'isReady', target: 'working' }, { target: 'done' }],
        poke: [{ guard: not('isReady') }, { actions: 'countUp' }],
        'odd:event;#x': { target: 'idle', reenter: true },
      },
    },
    working: {
      tags: ['busy'],
      initial: 'fetching',
      entry: 'logIt',
      states: {
        fetching: {
          invoke: {
            id: 'fetchData',
            src: 'fetchData',
            onDone: { target: 'checking', actions: 'countUp' },
            onError: { target: '#sample.idle' },
          },
        },
        checking: {
          always: { guard: 'isDone', target: 'finished' },
          after: { patience: 'fetching', 1000: '#sample.done' },
        },
        finished: { type: 'final' },
      },
      onDone: 'done',
    },
    done: { type: 'final' },
  },
});

describe('machineToMermaid', () => {
  it('draws nested states as a composite with its own initial and final arrows', () => {
    const diagram = machineToMermaid(subject);

    expect(diagram).toContain('  state working {\n');
    expect(diagram).toContain('    state "fetching" as working_fetching\n');
    expect(diagram).toContain('    [*] --> working_fetching\n');
    expect(diagram).toContain('    working_finished --> [*]\n');
    expect(diagram).toContain('  [*] --> idle\n');
    expect(diagram).toContain('  done --> [*]\n');
  });

  it('labels each branch with the shortened event and its guard', () => {
    const diagram = machineToMermaid(subject);

    expect(diagram).toContain('  idle --> working : go [isReady]\n');
    expect(diagram).toContain('  idle --> done : go\n');
    expect(diagram).toContain('    working_fetching --> working_checking : done fetchData\n');
    expect(diagram).toContain('    working_checking --> working_finished : always [isDone]\n');
    expect(diagram).toContain('    working_checking --> working_fetching : after patience\n');
    expect(diagram).toContain('  working --> done : done\n');
  });

  it('writes edges that leave a composite at the top level, never inside the block', () => {
    const diagram = machineToMermaid(subject);
    const block = diagram.slice(diagram.indexOf('state working {'), diagram.indexOf('\n  }\n'));

    expect(diagram).toContain('\n  working_fetching --> idle : error fetchData\n');
    expect(diagram).toContain('\n  working_checking --> done : after 1000ms\n');
    expect(block).not.toContain('--> idle');
  });

  it('shows a re-entering self transition, with a label cleaned of Mermaid syntax', () => {
    const diagram = machineToMermaid(subject);

    expect(diagram).toContain('  idle --> idle : odd event x (reenter)\n');
  });

  it('lists targetless transitions in a note on their state', () => {
    const diagram = machineToMermaid(subject);

    expect(diagram).toContain(
      '  note right of idle\n    ignores poke [not isReady]\n    stays on poke / countUp\n  end note\n',
    );
  });

  it('keeps to the Mermaid rules the checker knows, for the sample and both real machines', () => {
    for (const machine of [subject, marketigerMachine, mrkterMachine]) {
      expect(mermaidProblems(machineToMermaid(machine))).toEqual([]);
    }
  });

  it('gives states named like Mermaid keywords a safe id and keeps their name as the label', () => {
    const machine = createMachine({ initial: 'state', states: { state: { on: { x: 'note' } }, note: {} } });

    const diagram = machineToMermaid(machine);

    expect(diagram).toContain('  state "state" as s_state\n');
    expect(diagram).toContain('  s_state --> s_note : x\n');
    expect(mermaidProblems(diagram)).toEqual([]);
  });
});

describe('the Mermaid checker', () => {
  it('reports labels, blocks and ids that Mermaid would read differently', () => {
    const bad = [
      'stateDiagram-v2',
      '  a',
      '  state B {',
      '    c',
      '    c --> a : crosses',
      '  }',
      '  a --> c : done: login',
      '  state --> a',
    ].join('\n');

    const problems = mermaidProblems(bad);

    expect(problems).toContain('line 5: "a" belongs to "the top level", not "B"');
    expect(problems.some((problem) => problem.startsWith('line 7: not a statement'))).toBe(true);
    expect(problems).toContain('line 8: id "state" starts with a Mermaid keyword');
  });
});

describe('describeMachine', () => {
  it('describes states with their tags, invokes, entry actions and the events they accept', () => {
    const { states } = describeMachine(subject);

    expect(states.map((state) => state.path)).toEqual([
      'idle',
      'working',
      'working.fetching',
      'working.checking',
      'working.finished',
      'done',
    ]);
    expect(states.find((state) => state.path === 'working')).toMatchObject({
      type: 'compound',
      initial: 'working.fetching',
      tags: ['busy'],
      entry: ['logIt'],
    });
    expect(states.find((state) => state.path === 'working.fetching')).toMatchObject({
      parent: 'working',
      invokes: [{ id: 'fetchData', src: 'fetchData' }],
    });
    expect(states.find((state) => state.path === 'idle')?.accepts).toEqual(['go', 'poke', 'odd:event;#x']);
  });

  it('leaves the timer bookkeeping of after out of entry and exit actions', () => {
    const checking = describeMachine(subject).states.find((state) => state.path === 'working.checking');

    expect(checking?.entry).toEqual([]);
    expect(checking?.exit).toEqual([]);
  });

  it('describes every transition with its source, targets, event, guard and actions', () => {
    const { transitions } = describeMachine(subject);

    expect(transitions).toContainEqual({
      source: 'working.fetching',
      event: 'xstate.done.actor.fetchData',
      label: 'done fetchData',
      kind: 'done',
      targets: ['working.checking'],
      guard: null,
      actions: ['countUp'],
      reenter: false,
    });
    expect(transitions).toContainEqual(
      expect.objectContaining({ source: 'idle', event: 'poke', targets: [], guard: 'not isReady' }),
    );
    expect(transitions).toContainEqual(
      expect.objectContaining({ source: 'working.checking', kind: 'always', guard: 'isDone' }),
    );
    expect(transitions).toHaveLength(11);
  });

  it('reads the initial context and the named guards, delays and actors with where they are used', () => {
    const description = describeMachine(subject);

    expect(description.context).toEqual([
      { name: 'count', initial: 0 },
      { name: 'label', initial: 'x' },
    ]);
    expect(description.guards).toEqual([
      { name: 'isReady', usedIn: ['idle'] },
      { name: 'isDone', usedIn: ['working.checking'] },
      { name: 'isUnused', usedIn: [] },
    ]);
    expect(description.delays).toEqual([{ name: 'patience', usedIn: ['working.checking'] }]);
    expect(description.actors).toEqual([{ name: 'fetchData', usedIn: ['working.fetching'] }]);
  });

  it('reads the initial context of a machine whose context depends on input', () => {
    const { context } = describeMachine(marketigerMachine);

    expect(context).toContainEqual({ name: 'refreshLeewayMs', initial: 60_000 });
    expect(context).toContainEqual({ name: 'accessToken', initial: null });
  });
});
