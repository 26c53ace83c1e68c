/**
 * Drops what only a reader needs from a rendered step: full-line comments and
 * blank lines, in the shell code and in the embedded python helper. The
 * source files in steps/ keep every comment; what a host runs (from the bundle
 * or from user data, the same text) is this leaner form, so a node's whole
 * bootstrap fits in EC2's 16 KiB of user data.
 *
 * Heredoc bodies are data, and stay byte for byte, except the python helper
 * (`<<'GV_PY'`), whose full-line comments are code comments too. Lines that
 * tools read are kept: the shebang and `# shellcheck` directives.
 */
// `<<` followed by a word, not `<<` inside `$(( ))` arithmetic.
const HEREDOC = /(?<!\$\(\([^)]*)<<(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
const PYTHON_DELIMITER = "GV_PY";

const isComment = (line: string) => /^\s*#/.test(line) && !/^#!/.test(line) && !/^\s*# shellcheck /.test(line);

/** `text` without full-line comments and blank lines outside data heredocs. */
export function stripComments(text: string): string {
  const out: string[] = [];
  const open: { name: string; tabs: boolean }[] = [];
  let inQuote: "'" | '"' | undefined;
  for (const line of text.split("\n")) {
    const inside = open[0];
    if (inside !== undefined) {
      if (line === inside.name || (inside.tabs && line.replace(/^\t+/, "") === inside.name)) {
        open.shift();
        out.push(line);
      } else if (inside.name !== PYTHON_DELIMITER || (line.trim() !== "" && !isComment(line))) {
        out.push(line);
      }
      continue;
    }
    if (inQuote === undefined && (line.trim() === "" || isComment(line))) continue;
    // Indentation is for readers, except on a line that continues a quoted string.
    out.push(inQuote === undefined ? line.trimStart() : line);
    inQuote = quoteStateAfter(line, inQuote);
    if (inQuote === undefined) for (const m of line.matchAll(HEREDOC)) open.push({ name: m[3]!, tabs: m[1] === "-" });
  }
  return out.join("\n");
}

/**
 * Which quote (if any) is still open at the end of `line`, given the one open
 * at its start. Enough for this code's style: quotes pair up on a line except
 * in a few deliberate multi-line strings; `#` starts a comment only outside
 * quotes and after a blank.
 */
function quoteStateAfter(line: string, open: "'" | '"' | undefined): "'" | '"' | undefined {
  let q = open;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q === "'") {
      if (c === "'") q = undefined;
    } else if (q === '"') {
      if (c === "\\") i++;
      else if (c === '"') q = undefined;
    } else if (c === "\\") i++;
    else if (c === "'" || c === '"') q = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) break;
  }
  return q;
}
