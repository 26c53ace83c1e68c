import * as pulumi from "@pulumi/pulumi";
import { checkConnectionFields } from "../plan/ssh";
import { HostConnectionArgs } from "./host-args";
import { asInputError } from "./validate";
import { isKnownNow } from "./unknown-values";

/**
 * Checks a Host's connection now for every field that is a plain value (so
 * `pulumi preview` fails on a bad host key even while the address is still
 * unknown), and again once the rest resolves. Returns the connection to use.
 */
export function checkConnection(connection: pulumi.Input<HostConnectionArgs>, root: string): pulumi.Input<HostConnectionArgs> {
  if (!pulumi.Output.isInstance(connection) && !(connection instanceof Promise)) {
    asInputError(() => checkConnectionFields(connection as unknown as Record<string, unknown>, root, isKnownNow));
  }
  return pulumi.output(connection).apply((c) => {
    asInputError(() => checkConnectionFields(c as unknown as Record<string, unknown>, root));
    return c;
  }) as pulumi.Output<HostConnectionArgs>;
}

/**
 * Without `hostKey` the command provider accepts any host key, on every
 * connection (destroy included): say so in the preview, once per Host.
 */
export function warnIfHostKeyUnpinned(connection: pulumi.Input<HostConnectionArgs>, resource: pulumi.Resource): void {
  pulumi.output(connection).apply((c) => {
    if (c.hostKey === undefined || c.hostKey === "") {
      void pulumi.log.warn(
        `connection.hostKey is not set, so the SSH host key of ${c.host} is not checked on any connection (an on-path attacker could answer the steps and forge the verification); pin it with connection.hostKey (the content of /etc/ssh/ssh_host_ed25519_key.pub)`,
        resource,
      );
    }
    return undefined;
  });
}
