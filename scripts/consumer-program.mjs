// Writes a fresh Pulumi program that depends on a packed pulumi-gvisor tarball
// and the peer dependencies at the versions this repository tests with:
// usage: node scripts/consumer-program.mjs <dir> <tarball>.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [dir, tarball] = process.argv.slice(2);
if (!dir || !tarball) throw new Error("usage: consumer-program.mjs <dir> <tarball>");
const own = JSON.parse(readFileSync("package.json", "utf8"));
const tested = (name) => {
  const version = own.devDependencies[name];
  if (!version) throw new Error(`package.json has no devDependency ${name}`);
  return version;
};

mkdirSync(dir, { recursive: true });
const peers = Object.fromEntries(Object.keys(own.peerDependencies).map((name) => [name, tested(name)]));
writeFileSync(
  join(dir, "package.json"),
  JSON.stringify(
    {
      name: "gvisor-consumer",
      private: true,
      main: "dist/index.js",
      dependencies: { "pulumi-gvisor": `file:${tarball}`, ...peers },
      devDependencies: { typescript: tested("typescript"), "@types/node": tested("@types/node") },
    },
    null,
    2,
  ),
);
const compilerOptions = { target: "ES2022", module: "commonjs", moduleResolution: "node", strict: true, outDir: "dist", types: ["node"], skipLibCheck: false };
writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["index.ts"] }));
writeFileSync(
  join(dir, "tsconfig.node16.json"),
  JSON.stringify({ compilerOptions: { ...compilerOptions, module: "node16", moduleResolution: "node16", noEmit: true }, include: ["index.ts"] }),
);
writeFileSync(
  join(dir, "index.ts"),
  `import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as gvisor from "pulumi-gvisor";
import { setGvisorMocks } from "pulumi-gvisor/testing";

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

async function main(): Promise<void> {
  await setGvisorMocks();
  const host = new gvisor.Host("box", {
    connection: { host: "203.0.113.10", privateKey: pulumi.secret("key") },
    runsc: { platform: gvisor.RunscPlatform.Systrap },
  });
  const [isolated, digests] = await Promise.all([value(host.isolated), value(host.stepDigests)]);
  if (isolated !== true) throw new Error("Host is not isolated under the testing mocks");
  if (!/^[0-9a-f]{64}$/.test(digests.install)) throw new Error("the Host has no digest of its install step");
  if (!gvisor.renderStepScript(gvisor.buildHostPlan({}), "install").includes("set -eu")) throw new Error("the install step was not rendered from the packaged scripts");
  if (!gvisor.stepBundle().text.includes('"$d/install.sh"')) throw new Error("the step bundle does not carry the install step");

  // What the plugin runner does for \`pulumi package add\`: the package's exports, its directory.
  const dirname = path.dirname(require.resolve("pulumi-gvisor/package.json"));
  const components = getPulumiComponents(gvisor);
  const schema = JSON.parse(await new ComponentProvider({ name: "pulumi-gvisor", dirname, components }).getSchema());
  const names = Object.keys(schema.resources).sort().join(" ");
  if (names !== "pulumi-gvisor:index:Ec2Fleet pulumi-gvisor:index:Ec2Host pulumi-gvisor:index:EksNodeGroup pulumi-gvisor:index:Host pulumi-gvisor:index:RuntimeClass") {
    throw new Error(\`schema from the installed package has \${names}\`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`,
);
