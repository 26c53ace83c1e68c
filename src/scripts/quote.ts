/**
 * Quotes a string for POSIX sh: the one way any value enters rendered shell
 * text. Inside single quotes nothing is special except the single quote
 * itself, which is closed, escaped and reopened (`'\''`). Works for every
 * string, including newlines, `$()`, backticks and unicode.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `NAME='value'` for a variable name that is known to be a valid sh identifier. */
export function shellAssignment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a shell variable name: ${JSON.stringify(name)}`);
  return `${name}=${shellQuote(value)}`;
}
