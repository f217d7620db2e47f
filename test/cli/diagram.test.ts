import { describe, expect, it } from 'vitest';
import { diagramOutput, runDiagram } from '../../src/cli/diagram.js';
import { describeMachine, machineToMermaid } from '../../src/diagram/index.js';
import { marketigerMachine } from '../../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../../src/machines/mrkterMachine.js';

describe('authcharts diagram', () => {
  it('prints both diagrams by default, each after a comment naming its machine', () => {
    const subject = diagramOutput(undefined, 'mermaid');

    expect(subject).toBe(
      `%% marketiger\n${machineToMermaid(marketigerMachine)}\n%% mrkter\n${machineToMermaid(mrkterMachine)}`,
    );
  });

  it('prints one machine as JSON that parses back to its description', () => {
    const subject = JSON.parse(diagramOutput('mrkter', 'json'));

    expect(subject).toEqual(JSON.parse(JSON.stringify(describeMachine(mrkterMachine))));
    expect(subject.id).toBe('mrkter');
  });

  it('prints both machines as JSON keyed by name', () => {
    const subject = JSON.parse(diagramOutput(undefined, 'json'));

    expect(Object.keys(subject)).toEqual(['marketiger', 'mrkter']);
    expect(subject.marketiger.id).toBe('marketiger');
  });

  it('writes the Mermaid output by default and exits 0', () => {
    const written: string[] = [];

    const code = runDiagram('marketiger', {}, (text) => written.push(text));

    expect(code).toBe(0);
    expect(written).toEqual([`%% marketiger\n${machineToMermaid(marketigerMachine)}`]);
  });
});
