// gVisor on a machine you already have: any Linux host you can reach by SSH
// as root or as a user with passwordless sudo, with Docker installed.
import * as pulumi from "@pulumi/pulumi";
import * as gvisor from "pulumi-gvisor";

const config = new pulumi.Config();

const host = new gvisor.Host("sandbox", {
  connection: {
    host: config.require("host"),
    user: config.get("user") ?? "root",
    privateKey: config.requireSecret("sshPrivateKey"),
    // `ssh-keyscan -t ed25519 <host>` prints it; verify it out of band, then pin it.
    hostKey: config.require("hostKey"),
  },
  runsc: { network: gvisor.RunscNetwork.Sandbox },
  docker: { runtimeName: "runsc" },
  containerd: { enabled: config.getBoolean("containerd") ?? false },
});

export const isolated = host.isolated;
export const runscVersion = host.runscVersion;
export const verification = host.verification;
