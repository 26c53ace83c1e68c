/** One part of a parsed MIME multipart document, body decoded. */
export interface ParsedPart {
  headers: Record<string, string>;
  body: string;
}

/** A parsed `multipart/mixed` document. */
export interface ParsedMultipart {
  headers: Record<string, string>;
  boundary: string;
  parts: ParsedPart[];
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split("\n")) {
    const m = /^([A-Za-z][A-Za-z0-9-]*): (.*)$/.exec(line);
    if (!m) throw new Error(`not a header line: ${JSON.stringify(line)}`);
    const name = m[1].toLowerCase();
    if (name in headers) throw new Error(`repeated header ${name}`);
    headers[name] = m[2];
  }
  return headers;
}

/**
 * A strict reader for the documents this package writes (RFC 2046): LF line
 * ends, no preamble or epilogue, a delimiter only at a line start, the line
 * break before each delimiter belonging to the delimiter, 7bit or base64
 * bodies. Anything else throws, so a test cannot pass on a sloppy document.
 */
export function parseMultipart(doc: string): ParsedMultipart {
  const end = doc.indexOf("\n\n");
  if (end < 0) throw new Error("no blank line after the top-level headers");
  const headers = parseHeaders(doc.slice(0, end));
  if (headers["mime-version"] !== "1.0") throw new Error("MIME-Version is not 1.0");
  const ct = /^multipart\/mixed; boundary="([0-9A-Za-z'()+_,./:=? -]{1,70})"$/.exec(headers["content-type"] ?? "");
  if (!ct) throw new Error(`not multipart/mixed with a quoted boundary: ${headers["content-type"]}`);
  const boundary = ct[1];
  const rest = doc.slice(end + 2);
  const open = `--${boundary}\n`;
  const close = `\n--${boundary}--\n`;
  if (!rest.startsWith(open)) throw new Error("the body does not start with the first delimiter (preamble?)");
  if (!rest.endsWith(close)) throw new Error("the document does not end with the close delimiter and one newline (epilogue?)");
  const inner = rest.slice(open.length, rest.length - close.length);
  const chunks = inner.split(`\n--${boundary}\n`);
  if (chunks.some((c) => c.includes(`--${boundary}`))) throw new Error("a delimiter occurs where no part may end");
  const parts = chunks.map((chunk) => {
    const split = chunk.indexOf("\n\n");
    if (split < 0) throw new Error("a part has no blank line after its headers");
    const h = parseHeaders(chunk.slice(0, split));
    const raw = chunk.slice(split + 2);
    const encoding = h["content-transfer-encoding"];
    let body: string;
    if (encoding === "7bit") {
      if (!/^[\t\n\x20-\x7e]*$/.test(raw)) throw new Error("a 7bit part holds other bytes");
      if (raw.split("\n").some((l) => l.length > 998)) throw new Error("a 7bit part has a line over 998 characters");
      body = raw;
    } else if (encoding === "base64") {
      if (!raw.split("\n").every((l) => /^[A-Za-z0-9+/=]{1,76}$/.test(l))) throw new Error("a base64 part is not wrapped base64");
      body = Buffer.from(raw.replace(/\n/g, ""), "base64").toString("utf8");
    } else {
      throw new Error(`unexpected transfer encoding ${encoding}`);
    }
    return { headers: h, body };
  });
  return { headers, boundary, parts };
}
