import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { Ec2Fleet, Ec2Host, Host, RuntimeClass } from "../../src/index";
import { fakeAmiId, gvisorMocks, setGvisorMocks } from "../../src/testing";

// The tests a user of pulumi-gvisor writes for their own program, with the
// mocks from `pulumi-gvisor/testing` and nothing else.
const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("pulumi-gvisor/testing", () => {
  // Let the last program finish registering before the next one's mocks.
  afterEach(() => pulumi.runtime.disconnect());

  it("answers every lookup an Ec2Host makes: it reports isolated, on the AMI of its SSM parameter, in a default subnet", async () => {
    await setGvisorMocks();
    const host = new Ec2Host("sandbox", { instanceType: "m7g.large", sshAllowedCidrs: ["203.0.113.4/32"] });
    expect(await value(host.isolated)).toBe(true);
    expect(await value(host.arch)).toBe("arm64");
    expect(await value(host.verification)).toMatchObject({ arch: "aarch64", runtimes: [{ sandboxKernel: "4.4.0" }] });
    expect(await value(host.ami)).toBe(fakeAmiId("/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id"));
    expect(await value(host.publicIp)).toMatch(/^203\.0\.113\.\d+$/);
  });

  it("reports the hosts named in notIsolated as not isolated, and a fleet as not all isolated", async () => {
    await setGvisorMocks({ notIsolated: ["pool-arm-2"] });
    const fleet = new Ec2Fleet("pool", {
      sshAllowedCidrs: ["203.0.113.4/32"],
      hosts: [
        { name: "arm-1", arch: "arm64" },
        { name: "arm-2", arch: "arm64" },
      ],
    });
    expect(await value(fleet.allIsolated)).toBe(false);
    const verifications = await value(fleet.verifications);
    expect(verifications["arm-1"].isolated).toBe(true);
    expect(verifications["arm-2"].failures).toEqual([expect.stringContaining("not running under gVisor")]);
  });

  it("runs a Host on an existing machine and a RuntimeClass that reads GKE's class", async () => {
    await setGvisorMocks();
    const host = new Host("box", { connection: { host: "203.0.113.10", privateKey: pulumi.secret("key") } });
    expect(await value(host.runscVersion)).toBe("release-20261005.0");
    const gke = new RuntimeClass("gke", { preset: "gke", kubeconfig: "{}" });
    expect(await value(gke.handler)).toBe("gvisor");
  });

  it("hands resources and calls it does not know to the user's own mocks", async () => {
    const seen: string[] = [];
    const mocks = gvisorMocks({
      next: {
        newResource: (args) => (seen.push(args.type), { id: "mine", state: { ...args.inputs, extra: 1 } }),
        call: (args) => (seen.push(args.token), { answer: 42 }),
      },
    });
    expect(await mocks.newResource({ type: "random:index/randomPet:RandomPet", name: "pet", inputs: {}, custom: true } as any)).toEqual({
      id: "mine",
      state: { extra: 1 },
    });
    expect(await mocks.call({ token: "aws:index/getRegion:getRegion", inputs: {} } as any)).toEqual({ answer: 42 });
    expect(seen).toEqual(["random:index/randomPet:RandomPet", "aws:index/getRegion:getRegion"]);
  });
});
