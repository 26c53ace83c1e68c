/**
 * The release mirror: a plain HTTP server on 127.0.0.1 that serves the
 * fixture tree like the release bucket does (objects only, no listings, an
 * XML NoSuchKey body with every 404) and records each request, so tests can
 * assert what a step downloaded, and that a second run downloaded nothing.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { currentFlavor, type Flavor } from "../flavors";
import { ensureHostPackages } from "../packages";
import {
  buildFixtures,
  FIXTURE_ALIASES,
  FIXTURE_VERSIONS,
  FLAVOR_DEFAULT_FIXTURE,
  fixtureRunscVersion,
  REDIRECTS,
  TRUNCATED_PATHS,
  type MirrorFixtures,
} from "./fixtures";

export interface MirrorRequest {
  method: string;
  /** Request path as sent, without query string, e.g. `/release/20261020/x86_64/gvisor.tar.bz2`. */
  path: string;
  status: number;
  /** Body bytes actually sent. */
  bytes: number;
  /** Set when the server dropped the connection mid-body on purpose. */
  truncated?: boolean;
  userAgent?: string;
  at: number;
}

export interface Mirror {
  /** `http://127.0.0.1:PORT`: the bucket root; releases are under `${baseUrl}/release/<version>/<arch>/`. */
  readonly baseUrl: string;
  /** `${baseUrl}/release/<version>`: a release URL without the arch, as GV_RELEASE_URL takes it. */
  releaseUrl(version: string): string;
  readonly versions: typeof FIXTURE_VERSIONS;
  /**
   * The release a host of this mirror's flavor installs when a test names
   * none (testPlan()'s default): `versions.archive` (runsc 20221219) on
   * bookworm, `versions.archiveRunsc20240729` on trixie and sid.
   */
  readonly defaultVersion: string;
  /** `runsc --version`'s version of the runsc that a fixture release carries (`0.0~20240729.0`); defaults to `defaultVersion`'s. */
  runscVersion(version?: string): string;
  readonly fixtures: MirrorFixtures;
  /** Every request so far, oldest first. */
  readonly requests: readonly MirrorRequest[];
  /** Requests that got a whole object (GET, 200, not truncated). */
  downloads(): MirrorRequest[];
  clearRequests(): void;
  stop(): Promise<void>;
}

export interface MirrorOptions {
  /** The flavor whose hosts use this mirror: it picks `defaultVersion`. Defaults to the running file's flavor (GV_TEST_FLAVOR). */
  flavor?: Flavor;
}

export async function startMirror(opts: MirrorOptions = {}): Promise<Mirror> {
  const defaultVersion = FIXTURE_VERSIONS[FLAVOR_DEFAULT_FIXTURE[(opts.flavor ?? currentFlavor()).name]];
  await ensureHostPackages(); // the fixtures are made from Debian's runsc builds, with bzip2 and zstd
  const fixtures = await buildFixtures();
  const requests: MirrorRequest[] = [];
  let baseUrl = ""; // set once the server listens; redirects point back at it

  const server = http.createServer((req, res) => {
    const urlPath = (req.url ?? "/").split("?")[0] ?? "/";
    const rec: MirrorRequest = {
      method: req.method ?? "GET",
      path: urlPath,
      status: 0,
      bytes: 0,
      ...(req.headers["user-agent"] ? { userAgent: req.headers["user-agent"] } : {}),
      at: Date.now(),
    };
    requests.push(rec);
    if (req.method === "GET" || req.method === "HEAD") {
      const from = Object.keys(REDIRECTS).find((prefix) => urlPath.startsWith(`/${prefix}`));
      if (from !== undefined) {
        rec.status = 302;
        res.writeHead(302, { Location: `${baseUrl}/${REDIRECTS[from]}${urlPath.slice(from.length + 1)}`, "Content-Length": 0 });
        return res.end();
      }
    }
    const key = objectKey(urlPath);
    const file = key === undefined ? undefined : path.join(fixtures.root, key);
    let size = -1;
    try {
      if (file && fs.statSync(file).isFile()) size = fs.statSync(file).size;
    } catch {
      // absent
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, rec, 405, "text/plain", "method not allowed\n");
    if (size < 0) return send(res, rec, 404, "application/xml; charset=UTF-8", notFoundBody(key ?? urlPath));

    res.writeHead(200, {
      "Content-Type": key!.endsWith(".sha512") ? "text/plain" : "application/octet-stream",
      "Content-Length": size,
      "Last-Modified": new Date(0).toUTCString(),
    });
    rec.status = 200;
    if (req.method === "HEAD") return res.end();
    const data = fs.readFileSync(file!);
    if (TRUNCATED_PATHS.has(key!)) {
      // Promise the whole object, send half, hang up: what a dropped download looks like to curl/wget.
      const half = data.subarray(0, Math.floor(data.length / 2));
      rec.bytes = half.length;
      rec.truncated = true;
      res.write(half, () => res.socket?.destroy());
      return;
    }
    rec.bytes = data.length;
    res.end(data);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;

  return {
    baseUrl,
    releaseUrl: (version) => `${baseUrl}/release/${version}`,
    versions: FIXTURE_VERSIONS,
    defaultVersion,
    runscVersion: (version = defaultVersion) => fixtureRunscVersion(version),
    fixtures,
    requests,
    downloads: () => requests.filter((r) => r.method === "GET" && r.status === 200 && !r.truncated),
    clearRequests: () => void requests.splice(0),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

/** Maps a request path to an object key in the fixture tree, resolving aliases; undefined when it can name no object. */
export function objectKey(urlPath: string): string | undefined {
  let p: string;
  try {
    p = decodeURIComponent(urlPath).replace(/^\/+/, "");
  } catch {
    return undefined;
  }
  const parts = p.split("/");
  if (parts.some((s) => s === "" || s.startsWith("."))) return undefined;
  for (const [alias, target] of Object.entries(FIXTURE_ALIASES)) {
    if (p.startsWith(`${alias}/`)) return target + p.slice(alias.length);
  }
  return p;
}

function notFoundBody(key: string): string {
  const esc = key.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return (
    `<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>` +
    `<Message>The specified key does not exist.</Message><Details>No such object: ${esc}</Details></Error>`
  );
}

function send(res: http.ServerResponse, rec: MirrorRequest, status: number, type: string, body: string): void {
  rec.status = status;
  rec.bytes = Buffer.byteLength(body);
  res.writeHead(status, { "Content-Type": type, "Content-Length": rec.bytes });
  res.end(body);
}
