/** A TOML basic string. Plan values carry no control characters (validated), so escaping `\` and `"` suffices. */
export function tomlString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
