/**
 * Cloud lookups (invokes) that the hosts of one Ec2Fleet share. Hosts that
 * ask the same question (the default VPC, its default subnet in a zone, a
 * subnet's VPC, the AMI's SSM parameter) ask it once: a 500-host fleet makes
 * a handful of AWS API calls per preview, not 1,500, and the program spends
 * its time on the hosts rather than on repeated answers.
 *
 * Sharing is only within one fleet, whose members inherit its provider: two
 * separate Ec2Hosts may use different providers (accounts, regions), so each
 * keeps its own lookups.
 * @internal
 */
import * as pulumi from "@pulumi/pulumi";

export class SharedLookups {
  private readonly answers = new Map<string, pulumi.Output<unknown>>();

  /** `opts` of every invoke made: the fleet as parent, so the fleet's provider answers. */
  constructor(readonly opts: pulumi.InvokeOutputOptions) {}

  /**
   * The answer to the question named `key` (plain text that names the
   * question completely, e.g. `subnet-vpc:subnet-0abc`), asked once. A key not
   * known yet (preview, a subnet made in the same program) gives an unknown
   * answer, as the invoke itself would.
   */
  once<T>(key: pulumi.Input<string>, ask: (opts: pulumi.InvokeOutputOptions) => pulumi.Output<T>): pulumi.Output<T> {
    return pulumi.output(key).apply((k) => {
      let answer = this.answers.get(k);
      if (answer === undefined) {
        answer = ask(this.opts);
        this.answers.set(k, answer);
      }
      return answer as pulumi.Output<T>;
    });
  }
}

const byOwner = new WeakMap<pulumi.Resource, SharedLookups>();

/** Makes `owner`'s children (fleet members) share one set of lookups, asked with `owner` as parent. */
export function shareLookups(owner: pulumi.Resource): SharedLookups {
  const lookups = new SharedLookups({ parent: owner });
  byOwner.set(owner, lookups);
  return lookups;
}

/**
 * The lookups a component shares with its siblings, if its parent shares them;
 * else its own. Shared invokes have the fleet as parent, so the fleet's
 * provider answers them (not a provider set on one member by a transform).
 */
export function lookupsFor(parent: pulumi.Resource | undefined, self: pulumi.Resource): SharedLookups {
  return (parent && byOwner.get(parent)) ?? new SharedLookups({ parent: self });
}
