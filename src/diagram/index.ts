/**
 * Diagrams and plain descriptions of a statechart, derived from the machine definition alone: what the
 * `authcharts diagram` command prints and `npm run docs:diagrams` writes into docs/machines/ and the
 * README. Exported to users through `authcharts/testing`.
 */
export type {
  ContextFieldDescription,
  DescribeOptions,
  EventDescription,
  MachineDescription,
  NamedUse,
  StateDescription,
} from './describeMachine.js';
export { describeMachine } from './describeMachine.js';
export { machineToMermaid } from './machineToMermaid.js';
export type { TransitionDescription } from './transitions.js';
