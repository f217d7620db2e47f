/**
 * A Mermaid `stateDiagram-v2` of a statechart, derived from the machine definition alone.
 *
 * The Mermaid output keeps to the part of `stateDiagram-v2` whose parsing is plain: one statement a
 * line, ids of letters, digits and `_`, labels without the characters its lexer treats specially
 * (`:` `;` `#` `%` quotes braces angle brackets), `state "label" as id` for nested names, every
 * state declared once in its parent's block, and edges between states of different blocks written
 * at the top level (Mermaid moves a state into the last block that names it).
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import {
  allNodes,
  children,
  describeTransition,
  type TransitionDescription,
  transitionsOf,
} from './transitions.js';

/**
 * Text made safe for a Mermaid label or note: the state diagram lexer ends a label at `:` or `;`,
 * reads `#` and `%%` as comments, `"` as the end of a name, braces as blocks, `<<fork>>`-like
 * markers as pseudo-states, and `direction LR` anywhere on a line as a layout statement.
 */
function safeText(text: string): string {
  return text
    .replace(/[:;#%"{}<>\r\n\t]/g, ' ')
    .replace(/\bdirection(\s+)(TB|BT|RL|LR)\b/gi, 'direction-$2')
    .replace(/\bend(\s+)note\b/gi, 'end-note')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Words the lexer takes as keywords at the start of a statement (case-insensitive). */
const RESERVED_IDS =
  /^(state|note|class|classdef|scale|default|direction|hide|acctitle|accdescr|end|click|style|statediagram)/i;

/** Mermaid ids: letters, digits and `_` (no dots: `.` in an id breaks the DOM selectors Mermaid builds). */
function assignIds(root: AnyStateNode): Map<AnyStateNode, string> {
  const ids = new Map<AnyStateNode, string>();
  const taken = new Set<string>();
  for (const node of allNodes(root).slice(1)) {
    let base = (node.path.length === 1 ? node.key : node.path.join('_')).replace(/[^A-Za-z0-9_]/g, '_');
    if (base === '' || /^\d/.test(base) || RESERVED_IDS.test(base)) base = `s_${base}`;
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
    taken.add(id);
    ids.set(node, id);
  }
  return ids;
}

/** Where an edge is written: its composite when both ends are children of it, else the top level. */
function homeBlock(source: AnyStateNode, target: AnyStateNode, root: AnyStateNode): AnyStateNode {
  return source.parent !== undefined && source.parent === target.parent ? source.parent : root;
}

function edgeLabel(transition: TransitionDescription): string {
  const guard = transition.guard === null ? '' : ` [${transition.guard}]`;
  const reenter = transition.reenter ? ' (reenter)' : '';
  return safeText(`${transition.label}${guard}${reenter}`);
}

/**
 * A Mermaid `stateDiagram-v2` of the machine, drawn from its definition: nested states as composite
 * states, `[*]` arrows for initial and final states, one arrow per transition (each branch of a
 * guarded list is its own arrow, labelled `event [guard]`; re-entering ones say `(reenter)`), and the
 * transitions that leave no state (actions only, or an event deliberately ignored) as a note on their
 * state.
 *
 * @example
 * ```ts
 * import { machineToMermaid } from 'authcharts/testing';
 * writeFileSync('marketiger.mmd', machineToMermaid(marketigerMachine));
 * ```
 */
export function machineToMermaid(machine: AnyStateMachine): string {
  const root = machine.root;
  const ids = assignIds(root);
  const idOf = (node: AnyStateNode): string => ids.get(node) ?? 'root_any';
  const lines = ['stateDiagram-v2'];
  // Edges go in the block of a composite only when both ends are its direct children; everything
  // else at the top level, where naming a nested state does not move it.
  const topLevelEdges: string[] = [];
  let needsAnyState = false;

  const edgesOf = (node: AnyStateNode) =>
    transitionsOf(node).map(({ event, transition }) => ({
      transition,
      description: describeTransition(node, event, transition),
    }));

  const writeBlock = (block: AnyStateNode, indent: string): void => {
    const kids = children(block);
    kids.forEach((child, index) => {
      if (block.type === 'parallel' && index > 0) lines.push(`${indent}--`);
      const id = idOf(child);
      const label = safeText(child.key).replace(/[[\]]/g, ' ').trim();
      const alias = label === id ? '' : `"${label}" as `;
      if (child.type === 'compound' || child.type === 'parallel') {
        lines.push(`${indent}state ${alias}${id} {`);
        writeBlock(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(alias === '' ? `${indent}${id}` : `${indent}state ${alias}${id}`);
      }
      const stays = edgesOf(child).filter(({ description }) => description.targets.length === 0);
      if (stays.length > 0) {
        lines.push(`${indent}note right of ${id}`);
        for (const { description } of stays) {
          const guard = description.guard === null ? '' : ` [${description.guard}]`;
          const line =
            description.actions.length === 0
              ? `ignores ${description.label}${guard}`
              : `stays on ${description.label}${guard} / ${description.actions.join(', ')}`;
          lines.push(`${indent}  ${safeText(line)}`);
        }
        lines.push(`${indent}end note`);
      }
    });
    if (block.type === 'compound') {
      const initial = block.initial.target[0];
      if (initial) lines.push(`${indent}[*] --> ${idOf(initial)}`);
    }
    for (const child of kids) {
      if (child.type === 'final') lines.push(`${indent}${idOf(child)} --> [*]`);
    }
    const sources = block === root ? allNodes(root) : kids;
    for (const node of sources) {
      for (const { transition, description } of edgesOf(node)) {
        for (const target of (transition.target ?? []) as AnyStateNode[]) {
          if (homeBlock(node, target, root) !== block) continue;
          if (node === root) needsAnyState = true;
          const arrow = `${idOf(node)} --> ${idOf(target)} : ${edgeLabel(description)}`;
          if (block === root) topLevelEdges.push(arrow);
          else lines.push(`${indent}${arrow}`);
        }
      }
    }
  };

  writeBlock(root, '  ');
  // Transitions of the machine root itself apply in every state: drawn from one "any state" box.
  if (needsAnyState) lines.push('  state "any state" as root_any');
  for (const edge of topLevelEdges) lines.push(`  ${edge}`);
  return `${lines.join('\n')}\n`;
}
