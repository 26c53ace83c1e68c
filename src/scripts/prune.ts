/**
 * Keeps only the parts of lib.sh a step uses: the shell functions its body
 * calls (transitively) and, inside the embedded python helper, only the
 * subcommands those functions run. A step's text then carries no dead code,
 * previews stay shorter, and a node's whole bootstrap fits in EC2 user data.
 *
 * Both languages are split the same simple way: a definition starts at
 * column 0 (`name() {` in sh, `def name(` in python) and owns the comment
 * lines just above it; everything else at top level is always kept.
 */

interface Block {
  /** The defined name, or undefined for top-level code that is always kept. */
  name?: string;
  text: string;
}

const SH_FUNCTION = /^([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{/;
const HEREDOC = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/;

/** Splits shell text into function blocks (heredoc-aware) and other code. */
function shellBlocks(text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let pending: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = SH_FUNCTION.exec(lines[i]);
    if (!start) {
      if (lines[i] === "" || lines[i].startsWith("#")) {
        pending.push(lines[i]);
      } else {
        blocks.push({ text: [...pending, lines[i]].join("\n") });
        pending = [];
      }
      continue;
    }
    const body = [...pending, lines[i]];
    pending = [];
    let heredoc: string | undefined;
    while (++i < lines.length) {
      body.push(lines[i]);
      if (heredoc !== undefined) {
        if (lines[i] === heredoc) heredoc = undefined;
        continue;
      }
      if (lines[i] === "}") break;
      heredoc = HEREDOC.exec(lines[i])?.[2];
    }
    blocks.push({ name: start[1], text: body.join("\n") });
  }
  if (pending.length) blocks.push({ text: pending.join("\n") });
  return blocks;
}

const PY_DEF = /^(?:def|class)\s+([A-Za-z_][A-Za-z0-9_]*)/;

/** Splits python text into top-level def/class blocks and other code. */
function pythonBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let current: Block | undefined;
  let pending: string[] = [];
  for (const line of text.split("\n")) {
    const topLevel = line !== "" && !/^\s/.test(line);
    if (topLevel && line.startsWith("#")) {
      pending.push(line);
      continue;
    }
    if (topLevel) {
      current = { name: PY_DEF.exec(line)?.[1], text: [...pending, line].join("\n") };
      pending = [];
      blocks.push(current);
    } else if (current && pending.length === 0) {
      current.text += `\n${line}`;
    } else {
      pending.push(line);
    }
  }
  if (pending.length) blocks.push({ text: pending.join("\n") });
  return blocks;
}

const withoutComments = (text: string) => text.replace(/^\s*#.*$/gm, "");

/** Names of `blocks` that `text` mentions as whole words (comments ignored). */
function mentioned(text: string, names: readonly string[]): string[] {
  const code = withoutComments(text);
  return names.filter((n) => new RegExp(`(?<![A-Za-z0-9_])${n}(?![A-Za-z0-9_])`).test(code));
}

/** Keeps the named blocks reachable from `roots` and every unnamed block, in order. */
function keepReachable(blocks: Block[], roots: readonly string[]): Block[] {
  const named = new Map(blocks.filter((b) => b.name !== undefined).map((b) => [b.name!, b]));
  const names = [...named.keys()];
  const seen = new Set<string>();
  const queue = [...roots];
  for (const b of blocks) if (b.name === undefined) queue.push(...mentioned(b.text, names));
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name) || !named.has(name)) continue;
    seen.add(name);
    queue.push(...mentioned(named.get(name)!.text, names));
  }
  return blocks.filter((b) => b.name === undefined || seen.has(b.name));
}

/** The python helper's subcommands a piece of shell runs (`gv_py <name>`). */
function pythonCommands(shell: string): string[] {
  return [...withoutComments(shell).matchAll(/\bgv_py\s+([a-z][a-z0-9-]*)/g)].map((m) => `cmd_${m[1].replace(/-/g, "_")}`);
}

/** The embedded python program: the body of lib.sh's `cat <<'GV_PY'` heredoc. */
const PYTHON = /(cat <<'GV_PY'\n)([\s\S]*?\n)(GV_PY\n)/;

/** lib.sh reduced to what `body` uses. */
export function pruneLib(lib: string, body: string): string {
  const blocks = shellBlocks(lib);
  const names = blocks.flatMap((b) => (b.name === undefined ? [] : [b.name]));
  const kept = keepReachable(blocks, mentioned(body, names))
    .map((b) => b.text)
    .join("\n");
  return kept.replace(PYTHON, (_all, open: string, python: string, close: string) => {
    const roots = pythonCommands(`${kept}\n${body}`);
    const program = keepReachable(pythonBlocks(python), roots)
      .map((b) => b.text)
      .join("\n");
    return `${open}${program}${close}`;
  });
}
