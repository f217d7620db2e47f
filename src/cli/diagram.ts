/**
 * `authcharts diagram [machine] [--format mermaid|json]`: prints a machine's Mermaid diagram or its
 * plain description, both derived from the definition (the same code that writes docs/machines/).
 */
import type { AnyStateMachine } from 'xstate';
import { describeMachine, machineToMermaid } from '../diagram/index.js';
import { marketigerMachine } from '../machines/marketigerMachine.js';
import { mrkterMachine } from '../machines/mrkterMachine.js';

/** The machines the command knows, by the name given on the command line. */
export const diagramMachines = { marketiger: marketigerMachine, mrkter: mrkterMachine } satisfies Record<
  string,
  AnyStateMachine
>;

export type DiagramMachineName = keyof typeof diagramMachines;
export type DiagramFormat = 'mermaid' | 'json';

/**
 * The command's output. Mermaid: one diagram per machine, each after a `%% name` comment line
 * (Mermaid skips it). JSON: one machine's description, or an object of both keyed by name.
 */
export function diagramOutput(name: DiagramMachineName | undefined, format: DiagramFormat): string {
  const names = name === undefined ? (Object.keys(diagramMachines) as DiagramMachineName[]) : [name];
  if (format === 'json') {
    const descriptions = Object.fromEntries(
      names.map((each) => [each, describeMachine(diagramMachines[each])]),
    );
    return `${JSON.stringify(name === undefined ? descriptions : descriptions[name], null, 2)}\n`;
  }
  return names.map((each) => `%% ${each}\n${machineToMermaid(diagramMachines[each])}`).join('\n');
}

/** The action of `authcharts diagram`: writes the output and returns the exit code. */
export function runDiagram(
  name: DiagramMachineName | undefined,
  options: { format?: DiagramFormat },
  write: (text: string) => void = (text) => process.stdout.write(text),
): number {
  write(diagramOutput(name, options.format ?? 'mermaid'));
  return 0;
}
