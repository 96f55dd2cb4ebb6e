// The walkthrough page (docs/walkthrough.md) is captured from real runs by test/e2e/sessions/walkthrough.test.ts; this
// checks, without a cluster, that every line it shows as the plugin's is still one of the plugin's
// formats: a string or template literal in src/ (its ${...} parts match anything).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WALKTHROUGH_DOC } from '../../../scripts/docs/readme-sections';

const REPO = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(REPO, WALKTHROUGH_DOC), 'utf8');

/** Every .ts file under a directory. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const HOLE = '\u0000';

/** The string and template literals of a source text, each hole (${...}) as HOLE, escapes read. */
function literals(text: string): string[] {
  const out: string[] = [];
  // Reads a template from just after its backtick; returns the index after its closing backtick.
  const template = (start: number, collect: boolean): number => {
    let i = start;
    let value = '';
    while (i < text.length && text[i] !== '`') {
      if (text[i] === '\\') {
        value += text.slice(i, i + 2);
        i += 2;
      } else if (text.startsWith('${', i)) {
        value += HOLE;
        i = expression(i + 2);
      } else value += text[i++];
    }
    if (collect) out.push(unescape(value));
    return i + 1;
  };
  // Skips a ${...} expression (nested templates and braces included); returns the index after its }.
  const expression = (start: number): number => {
    let depth = 1;
    let i = start;
    while (i < text.length && depth > 0) {
      const c = text[i]!;
      if (c === '`') i = template(i + 1, true);
      else if (c === "'" || c === '"') i = quoted(i, false);
      else if (c === '/' && operandStarts(i)) i = regex(i);
      else {
        if (c === '{') depth++;
        if (c === '}') depth--;
        i++;
      }
    }
    return i;
  };
  const quoted = (start: number, collect: boolean): number => {
    const q = text[start]!;
    let i = start + 1;
    let value = '';
    while (i < text.length && text[i] !== q && text[i] !== '\n') {
      if (text[i] === '\\') {
        value += text.slice(i, i + 2);
        i += 2;
      } else value += text[i++];
    }
    if (collect) out.push(unescape(value));
    return i + 1;
  };
  // A regular expression literal (a slash where an operand starts) may hold quotes: skipped whole.
  const regex = (start: number): number => {
    let i = start + 1;
    let inClass = false;
    while (i < text.length && text[i] !== '\n' && (inClass || text[i] !== '/')) {
      if (text[i] === '\\') i++;
      else if (text[i] === '[') inClass = true;
      else if (text[i] === ']') inClass = false;
      i++;
    }
    return i + 1;
  };
  const operandStarts = (at: number): boolean => /(^|[(,=:[!&|?{};+\-*%<>~^]|\breturn)\s*$/.test(text.slice(Math.max(0, at - 20), at));
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (text.startsWith('//', i)) i = text.indexOf('\n', i) + 1 || text.length;
    else if (text.startsWith('/*', i)) i = text.indexOf('*/', i) + 2;
    else if (c === '/' && operandStarts(i)) i = regex(i);
    else if (c === '`') i = template(i + 1, true);
    else if (c === "'" || c === '"') i = quoted(i, true);
    else i++;
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(u\{?[0-9a-fA-F]+\}?|x[0-9a-fA-F]{2}|.)/g, (_m, e: string) =>
    e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e[0] === 'u' || e[0] === 'x' ? String.fromCodePoint(parseInt(e.replace(/[ux{}]/g, ''), 16)) : e,
  );
}

/** One line pattern per line of every literal in src/: the formats the plugin prints from. */
const FORMATS: RegExp[] = sources(join(REPO, 'src'))
  .flatMap((f) => literals(readFileSync(f, 'utf8')))
  .flatMap((l) => l.split('\n'))
  .filter((l) => l.replace(new RegExp(HOLE, 'g'), '').trim().length > 3)
  .map((l) => new RegExp(`^${l.split(HOLE).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));

/** The lines the plugin writes itself (not the shell's, the container's output, or a table row). */
const PLUGIN_LINE = /^(added ephemeral container|waiting for|container "|attaching to|detached;|using pod|== |last exit:|crash-looping pods|pick a pod|error: |\w+: try$)/;

const blocks = [...readme.matchAll(/<!-- (walkthrough-[\w-]+):start -->\n```text\n([\s\S]*?)\n```\n<!-- \1:end -->/g)].map((m) => [m[1]!, m[2]!.split('\n')] as const);

describe("the walkthrough (docs/walkthrough.md): the plugin's lines are the plugin's formats", () => {
  it('has its blocks', () => {
    expect(blocks.map(([name]) => name)).toEqual(['walkthrough-session', 'walkthrough-frames', 'walkthrough-plain', 'walkthrough-detach', 'walkthrough-crashloop', 'walkthrough-crashloop-plain']);
  });

  it.each(blocks)('%s', (_name, lines) => {
    // The pick list's answer is typed after the question on the same line.
    const own = lines.filter((l) => PLUGIN_LINE.test(l)).map((l) => l.replace(/^(pick a pod \[[^\]]*\]: ).*$/, '$1'));
    expect(own.length).toBeGreaterThan(0);
    expect(own.filter((l) => !FORMATS.some((f) => f.test(l)))).toEqual([]);
  });

  it('would catch a line the plugin does not print', () => {
    expect(FORMATS.some((f) => f.test('detached; the container keeps running'))).toBe(false);
    expect(FORMATS.some((f) => f.test('detached; container "x" is still running; attach again with: kubectl ephemeral attach web x -n shop'))).toBe(true);
  });
});
