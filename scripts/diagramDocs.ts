/**
 * The generated documentation of the statecharts: docs/machines/<name>.md and the diagrams section of
 * README.md. Everything comes from the machine definitions (through `describeMachine` and
 * `machineToMermaid`) and from the TSDoc of the machine files (event payloads, context field
 * meanings, the summary paragraph), read with TypeScript's parser: nothing here is written per machine.
 * `npm run docs:diagrams` writes the files; test/docs/diagrams.test.ts fails when they are stale.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { AnyStateMachine } from 'xstate';
import { describeMachine, machineToMermaid } from '../src/diagram/index.js';
import { marketigerMachine } from '../src/machines/marketigerMachine.js';
import { mrkterMachine } from '../src/machines/mrkterMachine.js';
import { formatMarkdown } from './formatMarkdown.js';

/** The repository root (this file lives in scripts/). */
export const rootDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export const README_START = '<!-- diagrams:start -->';
export const README_END = '<!-- diagrams:end -->';

/** A machine to document: the export, its source file, and the names of its exported types. */
export interface DocumentedMachine {
  name: string;
  title: string;
  machine: AnyStateMachine;
  /** Path from the repository root. */
  source: string;
  exportName: string;
  eventType: string;
  contextType: string;
}

export const documentedMachines: DocumentedMachine[] = [
  {
    name: 'marketiger',
    title: 'Marketiger',
    machine: marketigerMachine,
    source: 'src/machines/marketigerMachine.ts',
    exportName: 'marketigerMachine',
    eventType: 'MarketigerEvent',
    contextType: 'MarketigerContext',
  },
  {
    name: 'mrkter',
    title: 'Mrkter',
    machine: mrkterMachine,
    source: 'src/machines/mrkterMachine.ts',
    exportName: 'mrkterMachine',
    eventType: 'MrkterEvent',
    contextType: 'MrkterContext',
  },
];

/** The text of the last `/** ... *\/` comment in `text`, up to its first block tag, as one line. */
function lastDocComment(text: string): string | null {
  const comments = [...text.matchAll(/\/\*\*([\s\S]*?)\*\//g)];
  const body = comments.at(-1)?.[1];
  if (body === undefined) return null;
  const lines = body.split('\n').map((line) => line.replace(/^\s*\*? ?/, ''));
  const tag = lines.findIndex((line) => line.startsWith('@'));
  const summary = (tag === -1 ? lines : lines.slice(0, tag)).join(' ').replace(/\s+/g, ' ').trim();
  return summary === '' ? null : summary;
}

/** Each member of a union or interface with the comment written just before it. */
function membersWithDocs<T extends ts.Node>(
  source: ts.SourceFile,
  container: ts.Node,
  members: readonly T[],
): { member: T; doc: string | null }[] {
  let from = container.getStart(source);
  return members.map((member) => {
    const doc = lastDocComment(source.text.slice(from, member.getStart(source)));
    from = member.getEnd();
    return { member, doc };
  });
}

/**
 * The member docs of interface `name` in the file at `path`, its own and, through `extends`, those of
 * the interfaces it extends (found through the file's relative imports): the machines' contexts
 * extend the session's shared context, which documents the fields both have.
 */
function interfaceDocs(path: string, name: string): Map<string, string | null> {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const docs = new Map<string, string | null>();
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement) || statement.name.text !== name) continue;
    for (const { member, doc } of membersWithDocs(source, statement, statement.members)) {
      if (member.name && ts.isIdentifier(member.name)) docs.set(member.name.text, doc);
    }
    for (const clause of statement.heritageClauses ?? []) {
      for (const type of clause.types) {
        const base = type.expression.getText(source);
        const from = importedFrom(source, base);
        if (from === null) continue;
        const basePath = join(dirname(path), from.replace(/\.js$/, '.ts'));
        for (const [field, doc] of interfaceDocs(basePath, base)) if (!docs.has(field)) docs.set(field, doc);
      }
    }
  }
  return docs;
}

/** The relative module a name is imported from in `source`, or `null`. */
function importedFrom(source: ts.SourceFile, name: string): string | null {
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const bindings = statement.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    const specifier = statement.moduleSpecifier.text;
    if (specifier.startsWith('.') && bindings.elements.some((element) => element.name.text === name)) {
      return specifier;
    }
  }
  return null;
}

interface SourceFacts {
  summary: string | null;
  events: Map<string, { payload: string; doc: string | null }>;
  contextDocs: Map<string, string | null>;
}

/** Reads the event union, the context interface and the machine's TSDoc from its source file. */
export function readSourceFacts(entry: DocumentedMachine): SourceFacts {
  const path = join(rootDir, entry.source);
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const facts: SourceFacts = { summary: null, events: new Map(), contextDocs: new Map() };
  let previousEnd = 0;
  for (const statement of source.statements) {
    if (ts.isTypeAliasDeclaration(statement) && statement.name.text === entry.eventType) {
      const members = ts.isUnionTypeNode(statement.type) ? statement.type.types : [statement.type];
      for (const { member, doc } of membersWithDocs(source, statement, members)) {
        if (!ts.isTypeLiteralNode(member)) continue;
        let type: string | null = null;
        const payload: string[] = [];
        for (const property of member.members) {
          if (!ts.isPropertySignature(property) || !ts.isIdentifier(property.name)) continue;
          const typeNode = property.type;
          if (property.name.text === 'type' && typeNode && ts.isLiteralTypeNode(typeNode)) {
            if (ts.isStringLiteral(typeNode.literal)) type = typeNode.literal.text;
          } else {
            const optional = property.questionToken ? '?' : '';
            payload.push(`${property.name.text}${optional}: ${typeNode?.getText(source) ?? 'unknown'}`);
          }
        }
        if (type !== null) facts.events.set(type, { payload: payload.join(', '), doc });
      }
    }
    if (ts.isInterfaceDeclaration(statement) && statement.name.text === entry.contextType) {
      facts.contextDocs = interfaceDocs(path, entry.contextType);
    }
    if (
      ts.isVariableStatement(statement) &&
      statement.declarationList.declarations.some(
        (declaration) => ts.isIdentifier(declaration.name) && declaration.name.text === entry.exportName,
      )
    ) {
      facts.summary = lastDocComment(source.text.slice(previousEnd, statement.getStart(source)));
    }
    previousEnd = statement.getEnd();
  }
  return facts;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(text: string): string {
  return text === '' ? '' : `\`${text}\``;
}

function codeList(items: readonly string[]): string {
  return items.map(code).join(', ');
}

/** A Markdown table; the column at `optional`, when given, is left out if every row leaves it empty. */
function table(header: string[], rows: string[][], optional?: number): string {
  if (optional !== undefined && rows.every((row) => !row[optional])) {
    const drop = <T>(items: T[]) => items.filter((_, index) => index !== optional);
    return table(drop(header), rows.map(drop));
  }
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** The Markdown page of one machine. */
export function renderMachineDoc(entry: DocumentedMachine): string {
  const description = describeMachine(entry.machine);
  const facts = readSourceFacts(entry);
  const parts: string[] = [];
  parts.push(`# ${entry.title} statechart (\`${description.id}\`)`);
  parts.push(
    [
      `<!-- Generated by \`npm run docs:diagrams\` from \`${entry.source}\`: do not edit by hand. -->`,
      '',
      `${facts.summary ?? ''} Drawn from the definition of \`${entry.exportName}\`: ` +
        `${description.states.length} states, ${description.transitions.length} transitions; ` +
        'an event accepted in a state is accepted in all of its children, and a note lists the events a ' +
        'state handles without leaving it.',
    ].join('\n'),
  );
  parts.push(`\`\`\`mermaid\n${machineToMermaid(entry.machine)}\`\`\``);

  const withMeaning = description.states.some((state) => state.description !== null);
  parts.push('## States');
  parts.push(
    table(
      ['state', 'tags', 'invokes', ...(withMeaning ? ['meaning'] : [])],
      description.states.map((state) => [
        code(state.path),
        codeList(state.tags),
        codeList(state.invokes.map((invoke) => invoke.src)),
        ...(withMeaning ? [state.description ?? ''] : []),
      ]),
    ),
  );

  parts.push('## Events');
  const eventRows = description.events.map((event) => {
    const fact = facts.events.get(event.type);
    return [code(event.type), code(fact?.payload ?? ''), codeList(event.acceptedIn), fact?.doc ?? ''];
  });
  // Declared in the event type but handled nowhere: sending it does nothing, which a reader should see.
  for (const [type, fact] of facts.events) {
    if (!description.events.some((event) => event.type === type)) {
      eventRows.push([code(type), code(fact.payload), 'nowhere (ignored)', fact.doc ?? '']);
    }
  }
  parts.push(table(['event', 'payload', 'accepted in', 'meaning'], eventRows, 3));

  parts.push('## Context');
  parts.push(
    table(
      ['field', 'initial value', 'meaning'],
      description.context.map((field) => [
        code(field.name),
        code(JSON.stringify(field.initial) ?? 'undefined'),
        facts.contextDocs.get(field.name) ?? '',
      ]),
      2,
    ),
  );

  parts.push('## Delays');
  parts.push(
    table(
      ['delay', 'used in'],
      description.delays.map((delay) => [code(delay.name), codeList(delay.usedIn) || 'not used']),
    ),
  );
  parts.push('## Guards');
  parts.push(
    table(
      ['guard', 'used in'],
      description.guards.map((guard) => [code(guard.name), codeList(guard.usedIn) || 'not used']),
    ),
  );
  return `${parts.join('\n\n')}\n`;
}

/** What goes between the README markers: both diagrams, each with a link to its page. */
export function renderReadmeSection(): string {
  const parts = [
    '<!-- Generated by `npm run docs:diagrams` from the machine definitions: do not edit by hand. -->',
  ];
  for (const entry of documentedMachines) {
    parts.push(`### ${entry.title}`);
    parts.push(`\`\`\`mermaid\n${machineToMermaid(entry.machine)}\`\`\``);
    parts.push(
      `States, events, context, delays and guards: [docs/machines/${entry.name}.md](docs/machines/${entry.name}.md).`,
    );
  }
  return parts.join('\n\n');
}

/** `readme` with the text between the markers replaced; throws when a marker is missing. */
export function replaceReadmeSection(readme: string, section: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`README.md needs the markers ${README_START} and ${README_END} (under "## Diagrams").`);
  }
  return `${readme.slice(0, start + README_START.length)}\n${section}\n${readme.slice(end)}`;
}

/** Every generated file, by path from the repository root, with the content it should have. */
export function generatedDocs(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of documentedMachines) {
    const path = `docs/machines/${entry.name}.md`;
    files.set(path, formatMarkdown(path, renderMachineDoc(entry)));
  }
  const readme = readFileSync(join(rootDir, 'README.md'), 'utf8');
  files.set('README.md', replaceReadmeSection(readme, renderReadmeSection()));
  return files;
}
