/**
 * A checker of the subset of Mermaid `stateDiagram-v2` that machineToMermaid writes, following the
 * rules of Mermaid's own grammar (packages/mermaid/src/diagrams/state/parser/stateDiagram.jison):
 * no parser package of Mermaid is installed here, so the rules we rely on are tested instead.
 * Returns the problems found; an empty list means the diagram keeps to those rules.
 */
const ID = '[A-Za-z_][A-Za-z0-9_]*';
const END = '\\[\\*\\]';
// The lexer's DESCR token is `":"[^:\n;]+`; `#` and `%%` start comments; `direction TB` anywhere is a statement.
const LABEL = '[^:;#%\\n"{}<>]+';
const RESERVED =
  /^(state|note|class|classdef|scale|default|direction|hide|acctitle|accdescr|end|click|style|statediagram)/i;

const patterns = {
  declare: new RegExp(`^(${ID})$`),
  alias: new RegExp(`^state "([^"<>\\[\\]]+)" as (${ID})( \\{)?$`),
  composite: new RegExp(`^state (${ID}) \\{$`),
  close: /^\}$/,
  edge: new RegExp(`^(${END}|${ID}) --> (${END}|${ID})(?: : (${LABEL}))?$`),
  note: new RegExp(`^note (?:left|right) of (${ID})$`),
  divider: /^--$/,
};

export function mermaidProblems(diagram: string): string[] {
  const problems: string[] = [];
  const lines = diagram.replace(/\n$/, '').split('\n');
  if (lines[0] !== 'stateDiagram-v2') problems.push(`line 1 must be "stateDiagram-v2", not "${lines[0]}"`);
  // Block of each declared id, and the stack of open blocks ('' is the top level).
  const declaredIn = new Map<string, string>();
  const stack = [''];
  const edges: { from: string; to: string; block: string; line: number }[] = [];
  const notes: { id: string; block: string; line: number }[] = [];
  const declare = (id: string, line: number) => {
    if (RESERVED.test(id)) problems.push(`line ${line}: id "${id}" starts with a Mermaid keyword`);
    if (declaredIn.has(id)) problems.push(`line ${line}: "${id}" declared twice`);
    declaredIn.set(id, stack.at(-1) ?? '');
  };
  for (let index = 1; index < lines.length; index++) {
    const number = index + 1;
    const raw = lines[index] ?? '';
    const line = raw.trim();
    if (/direction\s+(TB|BT|RL|LR)/i.test(line))
      problems.push(`line ${number}: reads as a direction statement`);
    const note = patterns.note.exec(line);
    if (note) {
      notes.push({ id: note[1] ?? '', block: stack.at(-1) ?? '', line: number });
      const close = lines.findIndex((text, at) => at > index && text.trim() === 'end note');
      if (close === -1) problems.push(`line ${number}: note without "end note"`);
      else index = close;
      continue;
    }
    const alias = patterns.alias.exec(line);
    if (alias) {
      declare(alias[2] ?? '', number);
      if (alias[3]) stack.push(alias[2] ?? '');
      continue;
    }
    const composite = patterns.composite.exec(line);
    if (composite) {
      declare(composite[1] ?? '', number);
      stack.push(composite[1] ?? '');
      continue;
    }
    if (patterns.close.test(line)) {
      if (stack.length === 1) problems.push(`line ${number}: "}" without an open block`);
      else stack.pop();
      continue;
    }
    const edge = patterns.edge.exec(line);
    if (edge) {
      edges.push({ from: edge[1] ?? '', to: edge[2] ?? '', block: stack.at(-1) ?? '', line: number });
      continue;
    }
    const declaration = patterns.declare.exec(line);
    if (declaration) declare(declaration[1] ?? '', number);
    else if (!patterns.divider.test(line)) {
      problems.push(`line ${number}: not a statement of the supported subset: ${raw}`);
    }
  }
  if (stack.length !== 1) problems.push(`unclosed block "${stack.at(-1)}"`);
  for (const edge of edges) {
    for (const id of [edge.from, edge.to]) {
      if (id === '[*]') continue;
      if (RESERVED.test(id)) problems.push(`line ${edge.line}: id "${id}" starts with a Mermaid keyword`);
      const block = declaredIn.get(id);
      if (block === undefined) problems.push(`line ${edge.line}: "${id}" is used but never declared`);
      // Inside a block, naming a state moves it into that block: only its own children may appear.
      else if (edge.block !== '' && block !== edge.block) {
        problems.push(
          `line ${edge.line}: "${id}" belongs to "${block || 'the top level'}", not "${edge.block}"`,
        );
      }
    }
  }
  for (const note of notes) {
    if (declaredIn.get(note.id) !== note.block) {
      problems.push(`line ${note.line}: note on "${note.id}" outside the block that declares it`);
    }
  }
  return problems;
}
